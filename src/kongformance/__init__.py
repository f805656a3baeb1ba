"""kongformance: end-to-end conformance suite for Kong Gateway's OAuth 2.0 / OIDC flows with Kong Identity."""

__version__ = "0.1.0"
