"""The requirement catalogue: loading, validation and coverage (issue 4, Deliver 1)."""

from __future__ import annotations

import pytest

from kongformance.requirements import CatalogueError, Coverage, load_catalogue, parse_catalogue


def _entry(rid: str = "X-1", **over: object) -> dict[str, object]:
    return {
        "id": rid,
        "statement": "s",
        "source": [{"title": "RFC 6750 §3", "url": "https://www.rfc-editor.org/rfc/rfc6750#section-3"}],
        "level": "MUST",
        "flows": ["all"],
        **over,
    }


def test_shipped_catalogue_loads_with_unique_ids_and_known_levels() -> None:
    """Every shipped entry has the five fields, a known level and known flows."""
    cat = load_catalogue()
    assert len(cat) >= 100
    assert all(r.level in ("MUST", "SHOULD", "KONG") for r in cat.requirements.values())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"requirements": [_entry(), _entry()]}, "duplicate"),
        ({"requirements": [_entry(level="MAYBE")]}, "level"),
        ({"requirements": [_entry(flows=["nowhere"])]}, "unknown flows"),
        ({"requirements": [_entry(statement="")]}, "lacks statement"),
        ({"nope": []}, "requirements"),
    ],
)
def test_rejects_a_malformed_catalogue(doc: object, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(doc)


def test_unknown_lists_ids_the_catalogue_does_not_define() -> None:
    cat = parse_catalogue({"requirements": [_entry("A"), _entry("B")]})
    assert cat.unknown(["A", "C", "B", "D"]) == ["C", "D"]


def test_coverage_reports_status_per_requirement_and_uncovered_ones() -> None:
    cat = parse_catalogue({"requirements": [_entry(r) for r in "ABCDE"]})
    cov = Coverage(cat)
    cov.add_collected("t1", ["A", "B"])
    cov.add_collected("t2", ["B", "C"])
    cov.add_collected("t3", ["D"])
    cov.add_outcome("t1", ["A", "B"], "passed")
    cov.add_outcome("t2", ["B", "C"], "failed")
    cov.add_outcome("t3", ["D"], "passed", ["dev-1"])
    assert [cov.status(r) for r in "ABCDE"] == ["passed", "failed", "failed", "deviation", "uncovered"]
    assert cov.uncovered() == ["E"]
    doc = cov.to_json()
    assert doc["uncovered"] == ["E"] and doc["requirements"][3]["tests"][0]["deviations"] == "dev-1"


def test_open_and_unchecked_outcomes_never_credit_a_requirement() -> None:
    """issue 10 Deliver 1: only a check that executed credits a requirement."""
    cat = parse_catalogue({"requirements": [_entry("A"), _entry("B"), _entry("C")]})
    cov = Coverage(cat)
    cov.add_collected("t1", ["A", "B", "C"])
    cov.add_outcome("t1", ["A", "B", "C"], "passed", open_={"A": "A oidc: 200"}, unchecked=["B"])
    assert (cov.status("A"), cov.status("B"), cov.status("C")) == ("open", "unchecked", "passed")
    assert cov.tests["A"][0]["observation"] == "A oidc: 200"
    cov.add_collected("t2", ["B"])
    cov.add_outcome("t2", ["B"], "passed")
    assert cov.status("B") == "passed"  # credited by the test whose check ran


def test_off_flow_names_requirements_whose_flows_omit_the_flow() -> None:
    cat = parse_catalogue({"requirements": [_entry("A", flows=["oauth2"]), _entry("B", flows=["all"])]})
    assert cat.off_flow(["A", "B"], "jwt") == ["A"]
    assert cat.off_flow(["A", "B"], "oauth2") == []
