"""Every source in the shipped catalogue and deviation registry is a link a reader can open."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
import yaml

from kongformance.deviations import load_registry
from kongformance.requirements import CatalogueError, load_catalogue, parse_catalogue
from kongformance.sources import Source, SourceError, is_public_url, legacy_sources, parse_sources

RFC_URL = re.compile(r"^https://www\.rfc-editor\.org/rfc/rfc\d+(#section-\d+(\.\d+)*)?$")
KONG_SOURCE_AT_TAG = re.compile(
    r"^https://github\.com/Kong/kong/blob/\d+\.\d+\.\d+/[\w./-]+(#L\d+(-L\d+)?)?$"
)


def _shipped(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(
        resources.files("kongformance").joinpath(f"data/{name}").read_text("utf-8")
    )
    return doc


def _all_sources() -> list[tuple[str, Source]]:
    out = [(r.id, s) for r in load_catalogue().requirements.values() for s in r.source]
    out += [(d.id, s) for d in load_registry().deviations for s in d.source]
    return out


def test_every_catalogue_and_deviation_source_is_a_public_url() -> None:
    sources = _all_sources()
    assert len(sources) > 150
    bad = [(rid, s.url) for rid, s in sources if not is_public_url(s.url)]
    assert bad == []


def test_rfc_and_kong_source_links_are_well_formed() -> None:
    for rid, src in _all_sources():
        if "rfc-editor.org" in src.url:
            assert RFC_URL.match(src.url), (rid, src.url)
            assert src.title.startswith("RFC "), (rid, src.title)
        if src.url.startswith("https://github.com/Kong/kong/blob/"):
            assert KONG_SOURCE_AT_TAG.match(src.url), (rid, src.url)


def test_no_source_names_a_private_note() -> None:
    text = "".join(
        resources.files("kongformance").joinpath(f"data/{n}").read_text("utf-8")
        for n in ("requirements.yaml", "deviations.yaml")
    )
    assert not re.search(r"kong-plugins\.md|kong-identity\.md|anchors-and-negative", text)


def test_every_shipped_entry_stores_its_sources_as_title_and_url() -> None:
    for name, key in (("requirements.yaml", "requirements"), ("deviations.yaml", "deviations")):
        for entry in _shipped(name)[key]:
            assert isinstance(entry["source"], list) and entry["source"], entry["id"]
            assert all(set(s) == {"title", "url"} for s in entry["source"]), entry["id"]


@pytest.mark.parametrize(
    "source",
    [
        "RFC 6750 3.1",
        [],
        [{"title": "note", "url": "kong-plugins.md 1.7"}],
        [{"title": "plain http", "url": "http://developer.konghq.com/plugins/jwt/"}],
        [{"title": "elsewhere", "url": "https://example.com/kong"}],
        [{"url": "https://developer.konghq.com/plugins/jwt/"}],
    ],
    ids=["text", "empty", "note", "http", "other-host", "no-title"],
)
def test_the_loader_refuses_a_source_that_is_not_a_public_link(source: object) -> None:
    doc = {
        "requirements": [{"id": "R", "statement": "s", "source": source, "level": "MUST", "flows": ["all"]}]
    }
    with pytest.raises(CatalogueError, match="source"):
        parse_catalogue(doc)


def test_results_of_older_runs_with_text_sources_still_load() -> None:
    assert legacy_sources("RFC 6750 3.1; kong notes 1") == (
        Source("RFC 6750 3.1", "https://www.rfc-editor.org/rfc/rfc6750#section-3.1"),
        Source("kong notes 1", ""),
    )
    assert parse_sources("RFC 7662 2.2", strict=False)[0].url.endswith("rfc7662#section-2.2")
    with pytest.raises(SourceError):
        parse_sources("RFC 7662 2.2")
