"""kongformance: end-to-end conformance suite for Kong Gateway's OAuth 2.0 / OIDC flows with Kong Identity."""

import logging

__version__ = "0.1.0"

# a library: its emulators' log records (Kong's error-log lines) reach handlers the application configures
# (pytest's log capture, `kongformance serve`), never Python's last-resort stderr handler
logging.getLogger(__name__).addHandler(logging.NullHandler())
