"""The local stack: three components on loopback sharing one clock, defects routed (h8 Deliver 2)."""

from __future__ import annotations

import datetime
import sys
import types
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kongformance import stack as stack_module
from kongformance.clock import Clock
from kongformance.defects import Defect, catalogue_of
from kongformance.stack import StackPorts, route_defects, start_local_stack


def _self_signed(tmp: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp / "cert.pem", tmp / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(certfile), str(keyfile)


def _whoami(role: str, clock: Clock) -> Starlette:
    async def answer(request: Request) -> JSONResponse:
        return JSONResponse({"role": role, "scheme": request.url.scheme, "now": clock.now()})

    return Starlette(routes=[Route("/", answer)])


class FakeIdentity:
    """Stands in for IdentityEmulator (same constructor and attributes as the layout contract)."""

    def __init__(self, clock: Clock | None = None, defects: Iterable[str] = ()) -> None:
        self.clock = clock or Clock()
        self.defects = list(defects)
        self.public_base_url: str | None = None
        self.app = _whoami("identity", self.clock)

    def set_public_base_url(self, url: str) -> None:
        self.public_base_url = url


class FakeGateway:
    """Stands in for ReferenceGateway (same constructor and attributes as the layout contract)."""

    tls: tuple[str, str] = ("", "")

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        kong_version: str = "3.15",
        db_less: bool = False,
        defects: Iterable[str] = (),
        trusted_ips: Iterable[str] = (),
    ) -> None:
        self.clock = clock or Clock()
        self.kong_version, self.db_less, self.defects = kong_version, db_less, list(defects)
        self.trusted_ips = list(trusted_ips)
        self.admin_app = _whoami("admin", self.clock)
        self.proxy_app = _whoami("proxy", self.clock)

    def tls_files(self) -> tuple[str, str]:
        return self.tls


@pytest.fixture
def fake_components(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    FakeGateway.tls = _self_signed(tmp_path)
    identity_app = types.ModuleType("fake_identity_app")
    identity_app.IdentityEmulator = FakeIdentity  # type: ignore[attr-defined]
    gateway_app = types.ModuleType("fake_gateway_app")
    gateway_app.ReferenceGateway = FakeGateway  # type: ignore[attr-defined]
    identity_defects = types.ModuleType("fake_identity_defects")
    identity_defects.DEFECTS = (  # type: ignore[attr-defined]
        Defect("issuer_x", "issuer", "x", "kong-identity.md B.4"),
    )
    gateway_defects = types.ModuleType("fake_gateway_defects")
    gateway_defects.CATALOGUE = catalogue_of(  # type: ignore[attr-defined]
        Defect("gateway_y", "gateway", "y", "kong-plugins.md 1.4")
    )
    monkeypatch.setitem(sys.modules, "kongformance.identity.app", identity_app)
    monkeypatch.setitem(sys.modules, "kongformance.gateway.app", gateway_app)
    monkeypatch.setitem(sys.modules, "fake_identity_defects", identity_defects)
    monkeypatch.setitem(sys.modules, "fake_gateway_defects", gateway_defects)
    monkeypatch.setattr(
        stack_module,
        "DEFECT_CATALOGUES",
        {
            "identity": ("fake_identity_defects", ("DEFECTS",)),
            "gateway": ("fake_gateway_defects", ("CATALOGUE",)),
        },
    )


@pytest.fixture
def fake_stack(fake_components: None) -> Iterator[stack_module.LocalStack]:
    s = start_local_stack(kong_version="3.9", db_less=True, defects=["gateway_y", "issuer_x"])
    yield s
    s.stop()


def test_stack_serves_every_role_on_loopback(fake_stack: stack_module.LocalStack) -> None:
    """h8 Deliver 2: identity, admin, proxy (HTTP and HTTPS) and upstream each answer at their URL."""
    urls = {
        "identity": fake_stack.identity_url,
        "admin": fake_stack.admin_url,
        "proxy": fake_stack.proxy_url,
        "proxy_ssl": fake_stack.proxy_ssl_url,
    }
    assert all(u.startswith("http://127.0.0.1:") for k, u in urls.items() if k != "proxy_ssl")
    assert fake_stack.proxy_ssl_url.startswith("https://127.0.0.1:")
    with httpx.Client(verify=False) as c:
        for role, url in urls.items():
            doc = c.get(url + "/").json()
            assert doc["role"] == role.replace("_ssl", "")
        assert c.get(fake_stack.proxy_ssl_url + "/").json()["scheme"] == "https"
        assert c.get(fake_stack.proxy_url + "/").json()["scheme"] == "http"
        assert c.get(fake_stack.upstream_url + "/anything").status_code == 200
    assert len(set(fake_stack.urls().values())) == 5


def test_a_client_cannot_fake_the_scheme_with_x_forwarded_proto(fake_stack: stack_module.LocalStack) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: trusted_ips is empty by default, so X-Forwarded-Proto from a client changes nothing."""
    with httpx.Client() as c:
        doc = c.get(fake_stack.proxy_url + "/", headers={"X-Forwarded-Proto": "https"}).json()
    assert doc["scheme"] == "http"


def test_components_share_one_clock(fake_stack: stack_module.LocalStack) -> None:
    """issue 3 Deliver 5: gateway, issuer and upstream in one stack share the virtual clock."""
    assert fake_stack.identity.clock is fake_stack.clock
    assert fake_stack.gateway.clock is fake_stack.clock
    assert fake_stack.upstream.clock is fake_stack.clock
    fake_stack.clock.freeze(at=5_000.0)
    fake_stack.clock.advance(60)
    with httpx.Client() as c:
        assert c.get(fake_stack.identity_url + "/").json()["now"] == 5_060.0
        assert c.get(fake_stack.admin_url + "/").json()["now"] == 5_060.0


def test_identity_learns_its_public_url_and_gateway_its_settings(fake_stack: stack_module.LocalStack) -> None:
    assert fake_stack.identity.public_base_url == fake_stack.identity_url
    assert (fake_stack.gateway.kong_version, fake_stack.gateway.db_less) == ("3.9", True)


def test_trusted_ips_default_to_none_and_reach_the_gateway(fake_components: None) -> None:
    """https://developer.konghq.com/gateway/db-less-mode/: trusted_ips defaults to none; a stack can be given Kong's trusted_ips."""
    with start_local_stack() as plain:
        assert plain.gateway.trusted_ips == []
    with start_local_stack(trusted_ips=["127.0.0.1/32"]) as trusting:
        assert trusting.gateway.trusted_ips == ["127.0.0.1/32"]


def test_defects_go_to_the_component_whose_catalogue_has_them(fake_stack: stack_module.LocalStack) -> None:
    """h8 Deliver 2: defect names are routed to the component whose catalogue has them."""
    assert fake_stack.identity.defects == ["issuer_x"]
    assert fake_stack.gateway.defects == ["gateway_y"]


def test_an_unknown_defect_is_refused_before_anything_starts(fake_components: None) -> None:
    with pytest.raises(ValueError, match="no_such_defect"):
        route_defects(["gateway_y", "no_such_defect"])
    with pytest.raises(ValueError, match="no_such_defect"):
        start_local_stack(defects=["no_such_defect"])


def test_stop_closes_every_listener(fake_components: None) -> None:
    s = start_local_stack()
    urls = list(s.urls().values())
    s.stop()
    with httpx.Client(verify=False, timeout=1.0) as c:
        for url in urls:
            with pytest.raises(httpx.TransportError):
                c.get(url + "/")


def test_a_port_in_use_fails_cleanly_and_stops_the_rest(fake_components: None) -> None:
    with start_local_stack() as first:
        taken = first.servers["upstream"].port
        with pytest.raises(RuntimeError, match="upstream"):
            start_local_stack(ports=StackPorts(upstream=taken))


def test_real_stack_starts_and_answers() -> None:
    """h8 Deliver 2 with the real IdentityEmulator and ReferenceGateway, once they exist."""
    pytest.importorskip("kongformance.identity.app")
    pytest.importorskip("kongformance.gateway.app")
    with start_local_stack() as s, httpx.Client(verify=False) as c:
        assert s.identity.clock is s.clock
        assert c.get(s.admin_url + "/").status_code == 200
        assert c.get(s.upstream_url + "/anything").status_code == 200
        assert c.get(s.identity_url + "/v1/auth-servers").status_code in (200, 401)


def test_real_defect_catalogues_are_found() -> None:
    """h8 Deliver 2: the stack knows the defect names of the real identity and gateway catalogues."""
    pytest.importorskip("kongformance.identity.defects")
    pytest.importorskip("kongformance.gateway.defects")
    names = stack_module.defect_names_by_component()
    assert names["identity"] and names["gateway"]
    assert not names["identity"] & names["gateway"]
    some_gateway_defect = sorted(names["gateway"])[0]
    assert route_defects([some_gateway_defect])["gateway"] == [some_gateway_defect]


def test_listeners_are_tcp_sockets_so_asyncio_disables_nagle(fake_stack: stack_module.LocalStack) -> None:
    """issue 3 Targets (added latency <= 2 ms at p50): asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets."""
    import socket

    for server in fake_stack.servers.values():
        assert server._sock.proto == socket.IPPROTO_TCP
