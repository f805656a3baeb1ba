"""List behaviour of the /v1 management API: pages, filters, sort (https://developer.konghq.com/api/konnect/kong-identity/v1/)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from kongformance.clock import Clock
from kongformance.identity.pagination import DEFAULT_PAGE_SIZE

from .test_auth_servers import Answer, assert_problem


def make_servers(api: TestClient, clock: Clock, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        clock.advance(1)
        labels = {"env": "prod" if i % 2 else "dev", "team": f"t{i}"}
        r = api.post(
            "/v1/auth-servers",
            json={
                "name": f"srv-{i:02d}",
                "audience": f"aud-{i % 3}",
                "description": f"desc {i}",
                "labels": labels,
            },
        )
        out.append(r.json())
    return out


def names(response: Answer) -> list[str]:
    return [item["name"] for item in response.json()["data"]]


def test_pages_have_data_and_meta_page_number_size_total(api: TestClient, clock: Clock) -> None:
    """A.10: {data, meta.page{number,size,total}}; the default page size is recorded in the fidelity ledger."""
    make_servers(api, clock, 12)
    first = api.get("/v1/auth-servers").json()
    assert first["meta"]["page"] == {"number": 1, "size": DEFAULT_PAGE_SIZE, "total": 12}
    assert len(first["data"]) == DEFAULT_PAGE_SIZE
    r = api.get("/v1/auth-servers?page[size]=5&page[number]=3")
    assert r.json()["meta"]["page"] == {"number": 3, "size": 5, "total": 12}
    assert names(r) == ["srv-10", "srv-11"]
    assert api.get("/v1/auth-servers?page[size]=5&page[number]=9").json()["data"] == []


def test_rejects_page_parameters_that_are_not_positive_integers(api: TestClient) -> None:
    """A.10: page[size] and page[number] are integers."""
    for query in ("page[size]=abc", "page[size]=0", "page[number]=-1", "page[number]=1.5"):
        body = assert_problem(api.get(f"/v1/auth-servers?{query}"), 400)
        assert body["invalid_parameters"][0]["source"] == "query"


def test_filters_by_eq_and_contains(api: TestClient, clock: Clock) -> None:
    """A.10: filter[name][eq|contains], filter[audience], filter[description], filter[id][eq]."""
    servers = make_servers(api, clock, 6)
    assert names(api.get("/v1/auth-servers?filter[name][eq]=srv-03")) == ["srv-03"]
    assert names(api.get("/v1/auth-servers?filter[name]=srv-04")) == ["srv-04"]
    assert names(api.get("/v1/auth-servers?filter[audience][eq]=aud-1")) == ["srv-01", "srv-04"]
    assert names(api.get("/v1/auth-servers?filter[description][contains]=c 5")) == ["srv-05"]
    assert names(api.get(f"/v1/auth-servers?filter[id][eq]={servers[2]['id']}")) == ["srv-02"]
    combined = api.get("/v1/auth-servers?filter[name][contains]=srv&filter[audience][eq]=aud-2")
    assert names(combined) == ["srv-02", "srv-05"]
    assert combined.json()["meta"]["page"]["total"] == 2


def test_filters_by_labels_with_key_value_terms(api: TestClient, clock: Clock) -> None:
    """A.10: filter[labels][eq]; value format key:value (or key), comma-separated (inferred)."""
    make_servers(api, clock, 4)
    assert names(api.get("/v1/auth-servers?filter[labels][eq]=env:prod")) == ["srv-01", "srv-03"]
    assert names(api.get("/v1/auth-servers?filter[labels][eq]=env:prod,team:t3")) == ["srv-03"]
    assert len(names(api.get("/v1/auth-servers?filter[labels][eq]=team"))) == 4
    assert names(api.get("/v1/auth-servers?filter[labels][eq]=missing")) == []


def test_rejects_unknown_filter_fields_and_operators(api: TestClient) -> None:
    """A.10: only the document's filters are accepted."""
    assert_problem(api.get("/v1/auth-servers?filter[colour][eq]=red"), 400)
    assert_problem(api.get("/v1/auth-servers?filter[id][contains]=x"), 400)
    assert_problem(api.get("/v1/auth-servers?filter[name][like]=x"), 400)


def test_sorts_ascending_by_default_and_descending_on_request(api: TestClient, clock: Clock) -> None:
    """A.10: sort=<field>[ desc][,...], ascending by default."""
    make_servers(api, clock, 4)
    assert names(api.get("/v1/auth-servers?sort=name desc")) == ["srv-03", "srv-02", "srv-01", "srv-00"]
    assert names(api.get("/v1/auth-servers?sort=created_at")) == ["srv-00", "srv-01", "srv-02", "srv-03"]
    multi = names(api.get("/v1/auth-servers?sort=audience desc,name"))
    assert multi == ["srv-02", "srv-01", "srv-00", "srv-03"]


def test_rejects_an_unsupported_sort_attribute(api: TestClient) -> None:
    """A.10: sortable auth-server fields are created_at, updated_at, name, audience."""
    body = assert_problem(api.get("/v1/auth-servers?sort=description"), 400)
    assert body["invalid_parameters"][0]["field"] == "sort"
    assert_problem(api.get("/v1/auth-servers?sort=name sideways"), 400)


def test_nested_lists_return_404_for_an_unknown_auth_server(api: TestClient) -> None:
    """A.2: scope/claim/client lists declare 404."""
    for kind in ("scopes", "claims", "clients"):
        assert_problem(api.get(f"/v1/auth-servers/4b3c1f0e-0000-4000-8000-000000000000/{kind}"), 404)
