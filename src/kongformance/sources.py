"""A requirement's (or deviation's) sources: links a reader can open.

The catalogue stores each source as ``{title, url}``. A URL must be one a reader can follow: an RFC section on
rfc-editor.org, an OpenID specification, a page of Kong's documentation (developer.konghq.com), a file of
Kong's public source at a tag (github.com/Kong/...), or the sprig template functions Kong Identity documents. Results written by older versions carried a plain text
source (``"RFC 6750 3.1; ..."``); :func:`parse_sources` reads those leniently when asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PUBLIC_PREFIXES = (
    "https://www.rfc-editor.org/rfc/rfc",
    "https://openid.net/specs/",
    "https://developer.konghq.com/",
    "https://github.com/Kong/",
    # the template functions Kong Identity documents for dynamic claims (sprig, and Go's library under it)
    "https://masterminds.github.io/sprig/",
    "https://pkg.go.dev/",
)
_RFC = re.compile(r"^RFC\s*(\d+)(?:\s+(?:section\s+|§\s*)?(\d+(?:\.\d+)*))?", re.IGNORECASE)


class SourceError(ValueError):
    """A source that is not a ``{title, url}`` with a public URL."""


@dataclass(frozen=True)
class Source:
    """One citation: what it is (``title``) and where to read it (``url``, empty only for legacy text)."""

    title: str
    url: str

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}


def is_public_url(url: str) -> bool:
    """True when ``url`` is an https link of a kind the catalogue accepts (see :data:`PUBLIC_PREFIXES`)."""
    return url.startswith(PUBLIC_PREFIXES) and not any(c.isspace() for c in url)


def rfc_url(number: str, section: str | None = None) -> str:
    return f"https://www.rfc-editor.org/rfc/rfc{number}" + (f"#section-{section}" if section else "")


def legacy_sources(text: str) -> tuple[Source, ...]:
    """Sources from the old text form: RFC references become rfc-editor.org links, URLs stay, the rest is
    kept as a title without a link."""
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        m = _RFC.match(part)
        if m:
            out.append(Source(part, rfc_url(m.group(1), m.group(2))))
        elif part.startswith(("https://", "http://")):
            out.append(Source(part, part))
        else:
            out.append(Source(part, ""))
    return tuple(out)


def parse_sources(value: Any, *, strict: bool = True) -> tuple[Source, ...]:
    """The sources of one catalogue entry: a non-empty list of ``{title, url}`` with public URLs.

    With ``strict=False`` (reading an older run's results) a plain string is accepted as legacy text.
    Raises :class:`SourceError` with one line saying what is wrong.
    """
    if isinstance(value, str) and not strict:
        return legacy_sources(value)
    if not isinstance(value, list) or not value:
        raise SourceError("source must be a non-empty list of {title, url}")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or not item.get("title") or not item.get("url"):
            raise SourceError(f"source entry {item!r} must have a title and a url")
        url = str(item["url"])
        if strict and not is_public_url(url):
            raise SourceError(f"source url {url!r} is not a public link ({', '.join(PUBLIC_PREFIXES)})")
        out.append(Source(str(item["title"]), url))
    return tuple(out)


def sources_text(sources: tuple[Source, ...]) -> str:
    """The titles, ``; ``-separated (for one-line displays)."""
    return "; ".join(s.title for s in sources)
