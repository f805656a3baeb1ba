"""Redaction of secrets in text that goes into the compliance report.

Everything taken from a run's results (failure messages, tracebacks, skip reasons, test names) passes
through :func:`redact` before it is written. What is redacted: JWTs (JWS and JWE compact form, and what is
left of one cut short), the credentials after an HTTP authentication scheme (``Bearer``, ``Basic``,
``token``, ``DPoP``, ...), values of secret-bearing fields (``client_secret=...``, ``"access_token": "..."``,
``'password': '...'``), Konnect personal and system access tokens (``kpat_``/``spat_``) and PEM private
keys, ``Cookie`` / ``Set-Cookie`` values, and every exact value the run told us is secret (:func:`learn`:
client secrets the profile created, tokens the issuer issued, opaque or not). Each redacted value keeps a
short fingerprint (8 hex digits of its SHA-256) so two values can be told apart and one can be followed
through a report without revealing it.
"""

from __future__ import annotations

import hashlib
import re
import threading

# Field names whose value is a secret wherever they appear (form, query, JSON, Python repr, YAML).
SECRET_FIELDS = (
    "client_secret",
    "secret",
    "password",
    "passwd",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "assertion",
    "client_assertion",
    "api_key",
    "apikey",
    "private_key",
    "x-api-key",
)

_B64URL = r"[A-Za-z0-9_-]"
# A JWS is three base64url segments, a JWE five; the header always starts with '{"' = "eyJ".
_JWT = re.compile(rf"\beyJ{_B64URL}*(?:\.{_B64URL}*){{2}}(?:\.{_B64URL}*\.{_B64URL}*)?")
# what is left of a JWT cut short (pytest truncates long assertion lines): a base64url JSON object segment
_JWT_FRAGMENT = re.compile(rf"\beyJ{_B64URL}{{8,}}")
_PAT = re.compile(r"\b(kpat|spat)_[A-Za-z0-9]+")
_PEM = re.compile(
    r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
# credentials (token68) after a scheme; never an auth-param (realm="x", error=invalid_token)
# (a credential may be followed by a quote: "Authorization": "Basic abc=" in JSON; an auth-param name is
# letters followed by "=" and a value)
_CRED = r"(?![A-Za-z][A-Za-z_-]*=(?:[^=]|$))(?:[A-Za-z0-9]|[+/][A-Za-z0-9+/]{3})[A-Za-z0-9._~+/-]*=*"
_SCHEME_WORD = r"(?:Bearer|Basic|DPoP|Negotiate|Digest|token)\b"
_AUTH = re.compile(rf"\b(Bearer|Basic|DPoP|Negotiate)([ \t]+)(?!\[redacted)({_CRED})", re.IGNORECASE)
# an Authorization header with any scheme (Kong also accepts "token <t>"), or a bare credential
_HEADER = re.compile(
    rf"\b((?:proxy-)?authorization[\"']?[ \t]*[:=][ \t]*[\"']?)(?:([A-Za-z][A-Za-z-]{{0,19}})[ \t]+|(?!{_SCHEME_WORD}))(?!\[redacted)({_CRED})(?![ \t]+\[redacted)",
    re.IGNORECASE,
)
_FIELDS = "|".join(re.escape(f) for f in sorted(SECRET_FIELDS, key=len, reverse=True))
_EDGE = r"(?<![A-Za-z0-9_-])"
# "key": "value", 'key': 'value', key='value' (JSON, Python repr, kwargs); quotes may be backslash-escaped
_QUOTED = re.compile(
    rf"""(?P<pre>{_EDGE}(?P<q>\\?["']?)(?:{_FIELDS})(?P=q)\s*[:=]\s*(?P<vq>\\?["']))(?P<val>.*?)(?P=vq)""",
    re.IGNORECASE,
)
# key=value (form, query) and key: value (YAML); the value ends at a separator or a quote
_PLAIN = re.compile(
    rf"""(?P<pre>{_EDGE}(?:{_FIELDS})(?:\s*=\s*|:[ \t]*))(?P<val>[^\s&,;"'<>)\]}}]+)""",
    re.IGNORECASE,
)

REDACTED = "[redacted]"
# Cookie: a=b; c=d (all values) and Set-Cookie: name=value (the value); the cookie names stay
_COOKIE = re.compile(
    r"\b((?:set-)?cookie[\"']?[ \t]*[:=][ \t]*[\"']?)(?!\[redacted)([^\r\n\"']+)", re.IGNORECASE
)
_COOKIE_PAIR = re.compile(r"([^=;\s]+)=([^;]*)")
_COOKIE_ATTRS = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority"}
)
MIN_KNOWN = 8  # shorter values are not learned (they would redact ordinary words)

_known_lock = threading.Lock()
_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None


def learn(*values: object) -> None:
    """Remember exact secret values of this run (client secrets, issued tokens): :func:`redact` masks
    each wherever it appears, whatever surrounds it. Values shorter than 8 characters are ignored, and so
    are JWTs (the JWT pattern masks every one of them already)."""
    global _known_pattern
    new = {
        v
        for v in values
        if isinstance(v, str)
        and len(v) >= MIN_KNOWN
        and not v.startswith("[redacted")
        and not _JWT.fullmatch(v)
    }
    with _known_lock:
        if new - _known:
            _known.update(new)
            _known_pattern = None  # compiled again when next needed


def forget_all() -> None:
    """Forget every learned value (tests)."""
    global _known_pattern
    with _known_lock:
        _known.clear()
        _known_pattern = None


def known_secrets() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known)


def _known_values() -> re.Pattern[str] | None:
    global _known_pattern
    with _known_lock:
        if _known_pattern is None and _known:
            alternatives = "|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True))
            _known_pattern = re.compile(alternatives)
        return _known_pattern


def mask(value: str) -> str:
    """The redacted stand-in for ``value``: ``[redacted <8 hex>]`` (a fingerprint, not the value)."""
    return f"[redacted {_fingerprint(value)}]"


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def _is_word(value: str) -> bool:
    """A plain word of prose: letters only, lower case or capitalised, short."""
    return value.isalpha() and len(value) < 20 and (value.islower() or value[1:].islower())


def _jwt(match: re.Match[str]) -> str:
    return f"[redacted JWT {_fingerprint(match.group(0))}]"


def _auth(match: re.Match[str]) -> str:
    if _is_word(match.group(3).rstrip(".")):
        return match.group(0)  # prose ("a Bearer challenge", "Basic Authorization"), not a credential
    return f"{match.group(1)}{match.group(2)}{mask(match.group(3))}"


def _header(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{mask(match.group(3))}"


def _quoted(match: re.Match[str]) -> str:
    value = match.group("val")
    if value.startswith("[redacted"):
        return match.group(0)
    return f"{match.group('pre')}{mask(value)}{match.group('vq')}"


def _plain(match: re.Match[str]) -> str:
    value = match.group("val")
    if value.startswith("[redacted"):
        return match.group(0)
    if _is_word(value) and match.group("pre").rstrip().lower().endswith("token:"):
        return match.group(0)  # "invalid token: expired" is a message, not a credential
    return f"{match.group('pre')}{mask(value)}"


def _cookie_value(pair: re.Match[str]) -> str:
    name, value = pair.group(1), pair.group(2)
    if name.lower() in _COOKIE_ATTRS or not value or value.startswith("[redacted"):
        return pair.group(0)
    return f"{name}={mask(value)}"


def _cookie(match: re.Match[str]) -> str:
    value = match.group(2)
    masked = _COOKIE_PAIR.sub(_cookie_value, value)
    if "=" not in value and value.strip():
        masked = mask(value.strip())  # no name=value pairs: the whole value is the secret
    return f"{match.group(1)}{masked}"


def redact(text: str) -> str:
    """``text`` with every secret, token, JWT and private key replaced by a ``[redacted...]`` marker."""
    if not text:
        return text
    pattern = _known_values()
    out = pattern.sub(lambda m: mask(m.group(0)), text) if pattern is not None else text
    out = _PEM.sub(lambda m: f"[redacted {m.group(1)}]", out)
    out = _JWT.sub(_jwt, out)
    out = _JWT_FRAGMENT.sub("[redacted JWT fragment]", out)
    out = _PAT.sub(lambda m: f"{m.group(1)}_{mask(m.group(0))}", out)
    out = _COOKIE.sub(_cookie, out)
    out = _HEADER.sub(_header, out)
    out = _AUTH.sub(_auth, out)
    out = _QUOTED.sub(_quoted, out)
    return _PLAIN.sub(_plain, out)
