"""The Kong Identity emulator as one ASGI app: ``/v1`` management, issuer paths, ``/_emulator`` control.

Issuer URLs are ``{public_base_url}/{issuer_key}/auth`` (https://developer.konghq.com/identity/auth-servers/ has a random host per auth
server; one process serves them all under a path instead). Call :meth:`IdentityEmulator.set_public_base_url`
once the socket is bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from kongformance.clock import Clock
from kongformance.defects import DefectSwitches
from kongformance.identity.control import ControlApi, ControlDeps
from kongformance.identity.defects import ISSUER_DEFECTS
from kongformance.identity.directory import CountingStore, IssuerDirectory
from kongformance.identity.faults import FaultInjector
from kongformance.identity.interception import Interceptor, TokenFastPath
from kongformance.identity.issuer import IssuerEndpoints
from kongformance.identity.keys import KeyPool, KeyRegistry
from kongformance.identity.management import http_exception_as_problem, management_app
from kongformance.identity.oauth_errors import http_error_as_oauth
from kongformance.identity.request_log import RequestLog
from kongformance.identity.store import AuthServer

DEFAULT_BASE_URL = "http://127.0.0.1:8300"


def any_non_empty_token(token: str) -> bool:
    """The default management API policy: any non-empty bearer token is accepted (issue 2)."""
    return bool(token)


async def _routing_error(request: Request, exc: Exception) -> Response:
    """Unroutable paths answer in the format of the API they fall under: problem+json below /v1 and
    /_emulator, OAuth error JSON elsewhere (issuer paths)."""
    if request.url.path.startswith(("/v1", "/_emulator")):
        return await http_exception_as_problem(request, exc)
    return await http_error_as_oauth(request, exc)


class IdentityEmulator:
    """One Kong Identity emulator: store, clock, keys, defects, faults, request log and the ASGI app."""

    def __init__(
        self,
        clock: Clock | None = None,
        defects: Iterable[str] = (),
        accept_token: Callable[[str], bool] | None = None,
        *,
        key_pool_size: int = 2,
        signing_threads: int | None = None,
    ) -> None:
        """``signing_threads``: threads that sign access tokens (default: one per CPU; 0 signs on the event
        loop, which costs less CPU per token but serves from one core)."""
        self.clock = clock or Clock()
        self.store = CountingStore(self.clock)
        self.directory = IssuerDirectory(self.store)
        self.defects = DefectSwitches(ISSUER_DEFECTS, defects)
        self.keys = KeyRegistry(KeyPool(size=key_pool_size))
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self._base_url = DEFAULT_BASE_URL
        self.issuer = IssuerEndpoints(
            self.store,
            self.directory,
            self.clock,
            self.keys,
            self.defects,
            self.issuer_url_for,
            signing_threads=signing_threads,
        )
        interceptor = Interceptor(self.directory, self.clock, self.requests, self.faults)
        control = ControlApi(
            ControlDeps(
                clock=self.clock,
                store=self.store,
                keys=self.keys,
                faults=self.faults,
                log=self.requests,
                defects=self.defects,
                issuer_url_for=self.issuer_url_for,
            )
        )
        management = management_app(
            self.store,
            self.clock,
            issuer_url_for=self.issuer_url_for,
            accept_token=accept_token or any_non_empty_token,
        )
        self.router = Starlette(
            routes=[
                Mount("/v1", app=management),
                Mount("/_emulator", app=control.app()),
                Mount("/{issuer_key}/auth", routes=self.issuer.routes(interceptor)),
            ],
            exception_handlers={HTTPException: _routing_error},
        )
        self.app = TokenFastPath(self.router, interceptor, self.issuer.issue)
        """The ASGI app: the token endpoint's fast path in front of :attr:`router` (Starlette)."""
        self.keys.pool.refill()

    @property
    def public_base_url(self) -> str:
        return self._base_url

    def set_public_base_url(self, url: str) -> None:
        """Where clients reach this emulator (scheme://host:port, no trailing slash); issuer URLs use it."""
        self._base_url = url.rstrip("/")

    def issuer_url_for(self, server: AuthServer) -> str:
        """The issuer URL of an auth server: ``{public_base_url}/{issuer_key}/auth``."""
        return f"{self._base_url}/{server.issuer_key}/auth"
