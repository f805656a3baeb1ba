"""The deviation registry and its verdicts (issue 4, Deliver 4)."""

from __future__ import annotations

import pytest

from kongformance.deviations import (
    DeviationVanished,
    RegistryError,
    RequirementViolated,
    judge,
    load_registry,
    parse_registry,
)
from kongformance.requirements import load_catalogue

DOC = {
    "deviations": [
        {
            "id": "old-spaces",
            "requirement": "R-syntax",
            "flows": ["oauth2"],
            "kong_versions": ">=3.0,<3.11",
            "summary": "spaces",
            "source": [
                {
                    "title": "oauth2 access.lua",
                    "url": "https://github.com/Kong/kong/blob/3.9.1/kong/plugins/oauth2/access.lua",
                }
            ],
            "kong": "refused",
        }
    ]
}


def test_every_recorded_deviation_names_a_catalogue_requirement() -> None:
    assert load_registry().check_requirements(load_catalogue().requirements) == []


@pytest.mark.parametrize(
    ("flow", "version", "applies"),
    [("oauth2", (3, 9), True), ("oauth2", (3, 11), False), ("oauth2", (2, 8), False), ("jwt", (3, 9), False)],
)
def test_a_deviation_applies_only_to_its_flows_and_version_range(
    flow: str, version: tuple[int, int], applies: bool
) -> None:
    reg = parse_registry(DOC)
    assert (reg.find("R-syntax", flow, version) is not None) is applies


def test_conforming_behaviour_without_a_recorded_deviation_passes() -> None:
    assert judge(parse_registry(DOC), "R-other", "oauth2", (3, 9), True, "ok") is None


def test_a_departure_without_a_recorded_deviation_fails() -> None:
    with pytest.raises(RequirementViolated):
        judge(parse_registry(DOC), "R-syntax", "oauth2", (3, 15), False, "spaces seen")


def test_a_recorded_departure_is_reported_as_a_deviation() -> None:
    dev = judge(parse_registry(DOC), "R-syntax", "oauth2", (3, 9), False, "spaces seen")
    assert dev is not None and dev.id == "old-spaces"


def test_a_recorded_deviation_that_no_longer_happens_fails() -> None:
    with pytest.raises(DeviationVanished, match="old-spaces"):
        judge(parse_registry(DOC), "R-syntax", "oauth2", (3, 9), True, "commas seen")


@pytest.mark.parametrize("bounds", ["~3.0", ">=three", ">= 3.0, <"])
def test_rejects_malformed_version_bounds(bounds: str) -> None:
    doc = {"deviations": [{**DOC["deviations"][0], "kong_versions": bounds}]}
    with pytest.raises(RegistryError):
        parse_registry(doc)


def test_each_deviation_states_kongs_behaviour_and_an_open_one_is_never_a_failure() -> None:
    """issue 10 Deliver 1: kong is proxied | refused | open; open records either observation."""
    assert all(d.kong in ("proxied", "refused", "open") for d in load_registry().deviations)
    doc = {"deviations": [{**DOC["deviations"][0], "kong": "open"}]}
    for conforms in (True, False):
        dev = judge(parse_registry(doc), "R-syntax", "oauth2", (3, 9), conforms, "seen")
        assert dev is not None and dev.open
    with pytest.raises(RegistryError, match="kong must be one of"):
        parse_registry({"deviations": [{**DOC["deviations"][0], "kong": "sometimes"}]})
