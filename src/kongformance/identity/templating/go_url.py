"""Sprig's `urlParse`/`urlJoin` over a port of Go's net/url (Parse and URL.String).

gotpl builds these on urllib, which accepts and splits URLs differently from Go (bad escapes
in queries, `////`, ports, control characters...). This is a byte-level transcription of
Go 1.19's net/url for the parts Sprig uses, so claim templates see what Kong's Go code sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kongformance.identity.templating.go_compat import go_decode

PATH, PATH_SEGMENT, HOST, ZONE, USER_PASSWORD, QUERY_COMPONENT, FRAGMENT = range(1, 8)
_HEX = b"0123456789ABCDEF"
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HOST_SUBDELIMS = frozenset(b"!$&'()*+,;=:[]<>\"")
_RESERVED = frozenset(b"$&+,/:;=?@")
_USERINFO_OK = frozenset(b"-._:~!$&'()*+,;=%@") | _ALNUM


class GoURLError(ValueError):
    """What Go's url.Parse returns as an error (Sprig turns it into a template error)."""


def _is_hex(byte: int) -> bool:
    return byte in b"0123456789abcdefABCDEF"


def _should_escape(byte: int, mode: int) -> bool:
    if byte in _ALNUM:
        return False
    if mode in (HOST, ZONE) and byte in _HOST_SUBDELIMS:
        return False
    if byte in b"-_.~":
        return False
    if byte in _RESERVED:
        if mode == PATH:
            return byte == ord("?")
        if mode == PATH_SEGMENT:
            return byte in b"/;,?"
        if mode == USER_PASSWORD:
            return byte in b"@/?:"
        if mode == QUERY_COMPONENT:
            return True
        if mode == FRAGMENT:
            return False
    return not (mode == FRAGMENT and byte in b"!()*")


def unescape(raw: bytes, mode: int) -> bytes:
    """net/url unescape: percent-decoding with Go's validation for each URL component."""
    index = 0
    while index < len(raw):
        byte = raw[index]
        if byte == ord("%"):
            if index + 2 >= len(raw) or not _is_hex(raw[index + 1]) or not _is_hex(raw[index + 2]):
                raise GoURLError(f"invalid URL escape {go_decode(raw[index : index + 3])!r}")
            triple = raw[index : index + 3]
            if mode == HOST and int(chr(raw[index + 1]), 16) < 8 and triple != b"%25":
                raise GoURLError(f"invalid URL escape {go_decode(triple)!r}")
            if mode == ZONE:
                value = int(triple[1:], 16)
                if triple != b"%25" and value != ord(" ") and _should_escape(value, HOST):
                    raise GoURLError(f"invalid URL escape {go_decode(triple)!r}")
            index += 3
            continue
        if mode in (HOST, ZONE) and byte < 0x80 and _should_escape(byte, mode):
            raise GoURLError(f"invalid character {chr(byte)!r} in host name")
        index += 1
    out = bytearray()
    index = 0
    while index < len(raw):
        byte = raw[index]
        if byte == ord("%"):
            out.append(int(raw[index + 1 : index + 3], 16))
            index += 3
            continue
        out.append(ord(" ") if byte == ord("+") and mode == QUERY_COMPONENT else byte)
        index += 1
    return bytes(out)


def escape(raw: bytes, mode: int) -> bytes:
    """net/url escape: percent-encode what `mode` requires (space as '+' in query components)."""
    out = bytearray()
    for byte in raw:
        if byte == ord(" ") and mode == QUERY_COMPONENT:
            out.append(ord("+"))
        elif _should_escape(byte, mode):
            out += b"%" + bytes([_HEX[byte >> 4], _HEX[byte & 15]])
        else:
            out.append(byte)
    return bytes(out)


def _valid_encoded(raw: bytes, mode: int) -> bool:
    return all(byte in b"!$&'()*+,;=:@[]%" or not _should_escape(byte, mode) for byte in raw)


def _valid_optional_port(port: bytes) -> bool:
    return not port or (port[:1] == b":" and all(48 <= byte <= 57 for byte in port[1:]))


@dataclass
class GoURL:
    """The fields of Go's url.URL that Sprig reads or writes (bytes, like Go strings)."""

    scheme: bytes = b""
    opaque: bytes = b""
    user: tuple[bytes, bytes | None] | None = None  # (username, password or None)
    host: bytes = b""
    path: bytes = b""
    raw_path: bytes = b""
    omit_host: bool = False
    force_query: bool = False
    raw_query: bytes = b""
    fragment: bytes = b""
    raw_fragment: bytes = b""

    def userinfo_string(self) -> bytes:
        if self.user is None:
            return b""
        name, password = self.user
        text = escape(name, USER_PASSWORD)
        return text if password is None else text + b":" + escape(password, USER_PASSWORD)

    def hostname(self) -> bytes:
        host = self.host
        colon = host.rfind(b":")
        if colon != -1 and _valid_optional_port(host[colon:]):
            host = host[:colon]
        if host.startswith(b"[") and host.endswith(b"]"):
            host = host[1:-1]
        return host

    def escaped_path(self) -> bytes:
        if self.raw_path and _valid_encoded(self.raw_path, PATH):
            try:
                if unescape(self.raw_path, PATH) == self.path:
                    return self.raw_path
            except GoURLError:
                pass
        return b"*" if self.path == b"*" else escape(self.path, PATH)

    def escaped_fragment(self) -> bytes:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, FRAGMENT):
            try:
                if unescape(self.raw_fragment, FRAGMENT) == self.fragment:
                    return self.raw_fragment
            except GoURLError:
                pass
        return escape(self.fragment, FRAGMENT)

    def string(self) -> bytes:
        """url.URL.String()."""
        out = bytearray()
        if self.scheme:
            out += self.scheme + b":"
        if self.opaque:
            out += self.opaque
        else:
            if (self.scheme or self.host or self.user is not None) and not (
                self.omit_host and not self.host and self.user is None
            ):
                if self.host or self.path or self.user is not None:
                    out += b"//"
                if self.user is not None:
                    out += self.userinfo_string() + b"@"
                if self.host:
                    out += escape(self.host, HOST)
            path = self.escaped_path()
            if path and path[:1] != b"/" and self.host:
                out += b"/"
            if not out and b":" in path.partition(b"/")[0]:
                out += b"./"
            out += path
        if self.force_query or self.raw_query:
            out += b"?" + self.raw_query
        if self.fragment:
            out += b"#" + self.escaped_fragment()
        return bytes(out)


def _scheme(raw: bytes) -> tuple[bytes, bytes]:
    for index, byte in enumerate(raw):
        if byte in _ALNUM and not 48 <= byte <= 57:
            continue
        if 48 <= byte <= 57 or byte in b"+-.":
            if index == 0:
                return b"", raw
            continue
        if byte == ord(":"):
            if index == 0:
                raise GoURLError("missing protocol scheme")
            return raw[:index], raw[index + 1 :]
        return b"", raw
    return b"", raw


def _parse_host(host: bytes) -> bytes:
    if host.startswith(b"["):
        close = host.rfind(b"]")
        if close < 0:
            raise GoURLError("missing ']' in host")
        if not _valid_optional_port(host[close + 1 :]):
            raise GoURLError(f"invalid port {go_decode(host[close + 1 :])!r} after host")
        zone = host[:close].find(b"%25")
        if zone >= 0:
            return (
                unescape(host[:zone], HOST) + unescape(host[zone:close], ZONE) + unescape(host[close:], HOST)
            )
    elif (colon := host.rfind(b":")) != -1 and not _valid_optional_port(host[colon:]):
        raise GoURLError(f"invalid port {go_decode(host[colon:])!r} after host")
    return unescape(host, HOST)


def _parse_authority(authority: bytes, url: GoURL) -> None:
    at = authority.rfind(b"@")
    url.host = _parse_host(authority[at + 1 :] if at >= 0 else authority)
    if at < 0:
        return
    userinfo = authority[:at]
    if not all(byte in _USERINFO_OK for byte in userinfo):
        raise GoURLError("net/url: invalid userinfo")
    if b":" not in userinfo:
        url.user = (unescape(userinfo, USER_PASSWORD), None)
    else:
        name, _, password = userinfo.partition(b":")
        url.user = (unescape(name, USER_PASSWORD), unescape(password, USER_PASSWORD))


def parse(raw_text: str) -> GoURL:
    """net/url.Parse (not via a request); raises GoURLError with Go's message."""
    raw = raw_text.encode()
    without_fragment, has_fragment, fragment = raw.partition(b"#")
    url = _parse_without_fragment(without_fragment)
    if has_fragment and fragment:
        url.fragment = unescape(fragment, FRAGMENT)
        url.raw_fragment = b"" if escape(url.fragment, FRAGMENT) == fragment else fragment
    return url


def _parse_without_fragment(raw: bytes) -> GoURL:
    if any(byte < 0x20 or byte == 0x7F for byte in raw):
        raise GoURLError("net/url: invalid control character in URL")
    url = GoURL()
    if raw == b"*":
        url.path = b"*"
        return url
    scheme, rest = _scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        url.force_query, rest = True, rest[:-1]
    else:
        rest, _, url.raw_query = rest.partition(b"?")
    if not rest.startswith(b"/"):
        if url.scheme:
            url.opaque = rest
            return url
        if b":" in rest.partition(b"/")[0]:
            raise GoURLError("first path segment in URL cannot contain colon")
    if (url.scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, slash, tail = rest[2:].partition(b"/")
        rest = slash + tail
        _parse_authority(authority, url)
    elif url.scheme and rest.startswith(b"/"):
        url.omit_host = True
    url.path = unescape(rest, PATH)
    url.raw_path = b"" if escape(url.path, PATH) == rest else rest
    return url


def url_parse(text: str) -> dict[str, Any]:
    """Sprig `urlParse`: the parts of a URL as a dict; a URL Go refuses is an error."""
    if not isinstance(text, str):
        raise TypeError(f"wrong type for value; expected string; got {type(text).__name__}")
    try:
        url = parse(text)
    except GoURLError as error:
        raise GoURLError(f"unable to parse url: parse {text!r}: {error}") from None
    return {
        "scheme": go_decode(url.scheme),
        "host": go_decode(url.host),
        "hostname": go_decode(url.hostname()),
        "path": go_decode(url.path),
        "query": go_decode(url.raw_query),
        "opaque": go_decode(url.opaque),
        "fragment": go_decode(url.fragment),
        "userinfo": go_decode(url.userinfo_string()),
    }


def _dict_string(parts: dict[str, Any], key: str) -> bytes:
    value = parts.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"unable to parse {key} key, must be of type string")
    return value.encode()


def url_join(parts: Any) -> str:
    """Sprig `urlJoin`: the URL string of a dict shaped like urlParse's result."""
    if not isinstance(parts, dict):
        raise TypeError("wrong type for value; expected map[string]interface {}")
    url = GoURL(
        scheme=_dict_string(parts, "scheme"),
        host=_dict_string(parts, "host"),
        path=_dict_string(parts, "path"),
        raw_query=_dict_string(parts, "query"),
        opaque=_dict_string(parts, "opaque"),
        fragment=_dict_string(parts, "fragment"),
    )
    userinfo = _dict_string(parts, "userinfo")
    if userinfo:
        try:
            url.user = parse(f"proto://{go_decode(userinfo)}@host").user
        except GoURLError as error:
            raise GoURLError(f"unable to parse userinfo in dict: {error}") from None
    return go_decode(url.string())
