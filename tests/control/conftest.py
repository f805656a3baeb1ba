"""Fixtures for the shared control endpoints: the bare module over a small catalogue, and both emulators that
mount it (the issuer emulator's ``/_emulator`` and the reference gateway's admin ``/_emulator``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from kongformance.clock import Clock
from kongformance.defects import Defect, DefectSwitches, catalogue_of
from kongformance.emulator_control import EmulatorControl, control_app
from kongformance.gateway.app import ReferenceGateway
from kongformance.identity.app import IdentityEmulator
from kongformance.serving import RunningServer, start_in_thread

SAMPLE_DEFECTS = catalogue_of(
    Defect("accept_everything", "test", "accepts any token", "kong-plugins.md 1.4"),
    Defect("drop_headers", "test", "drops upstream headers", "kong-plugins.md 1.9"),
)


@dataclass
class Surface:
    """One running control surface: its ``/_emulator`` URL and the objects it acts on."""

    name: str
    control: str
    clock: Clock
    defects: DefectSwitches
    changes: list[list[str]] = field(default_factory=list)  # enabled sets seen by the on-change callback
    gateway: ReferenceGateway | None = None  # set on the gateway's surface


def _bare() -> tuple[Starlette, Surface]:
    clock, switches = Clock(), DefectSwitches(SAMPLE_DEFECTS)
    surface = Surface("bare", "", clock, switches)
    shared = EmulatorControl(
        clock, switches, on_defects_change=lambda: surface.changes.append(switches.enabled())
    )
    return Starlette(routes=[Mount("/_emulator", app=control_app(shared.routes()))]), surface


@pytest.fixture(scope="session")
def surfaces() -> Iterator[dict[str, Surface]]:
    bare_app, bare = _bare()
    identity = IdentityEmulator()
    gateway = ReferenceGateway()
    servers: list[RunningServer] = []
    out: dict[str, Surface] = {}
    for app, surface in (
        (bare_app, bare),
        (identity.app, Surface("identity", "", identity.clock, identity.defects)),
        (gateway.admin_app, Surface("gateway", "", gateway.clock, gateway.defects, gateway=gateway)),
    ):
        server = start_in_thread(app)
        servers.append(server)
        surface.control = f"{server.url}/_emulator"
        out[surface.name] = surface
    yield out
    for server in servers:
        server.stop()
    gateway.close()


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _reset(surface: Surface) -> None:
    surface.clock.reset()
    surface.defects.clear()
    surface.changes.clear()


@pytest.fixture
def bare(surfaces: dict[str, Surface]) -> Iterator[Surface]:
    """The shared module alone, over :data:`SAMPLE_DEFECTS`, recording on-change calls."""
    surface = surfaces["bare"]
    _reset(surface)
    yield surface
    _reset(surface)


@pytest.fixture(params=["bare", "identity", "gateway"])
def surface(request: pytest.FixtureRequest, surfaces: dict[str, Surface]) -> Iterator[Surface]:
    """Each place the shared endpoints are mounted (every test runs against all three)."""
    chosen = surfaces[request.param]
    _reset(chosen)
    yield chosen
    _reset(chosen)
