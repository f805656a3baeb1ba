"""What the primary emulator process shares with its token workers (``serve identity --workers N``).

- :class:`SharedSegment`: a small mmap'd file with the virtual clock (:class:`SharedClock`) and a generation
  number the primary bumps after every change workers must see; workers compare it on each token request
  (a memory read, no IPC) and fetch a new :class:`Snapshot` when it moved.
- :class:`Snapshot`: auth servers, scopes, claims, clients (hashed secrets), signing keys and whether
  workers may answer token requests themselves (not while a fault or a defect is active: the primary then
  answers them all, so fault counts and defect behaviour stay exact).
- :class:`Outbox` / :class:`Inbox`: token records and request-log entries made by a worker, written to a
  per-worker pipe before the worker sends its response, and drained by the primary before it answers any
  request, so introspection, revocation, token lists and the request log see them at once.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kongformance.identity.app import IdentityEmulator
from kongformance.identity.issuer import EVICTION_INTERVAL_SECONDS
from kongformance.identity.keys import KeyRing, SigningKey
from kongformance.identity.request_log import LoggedRequest, RequestLog
from kongformance.identity.store import TokenRecord
from kongformance.shared_clock import CLOCK_BYTES, SharedClock

SEGMENT_FILE = "state"
SEGMENT_BYTES = 64
_GENERATION_AT = CLOCK_BYTES
_FRAME = struct.Struct("!I")
_LOG_FIELDS = tuple(f.name for f in fields(LoggedRequest) if f.name not in ("seq", "status", "fault_id"))


class SharedSegment:
    """The mmap'd state file in the primary's runtime directory: clock cells and the generation."""

    def __init__(self, path: Path, *, owner: bool) -> None:
        if owner:
            path.write_bytes(b"\0" * SEGMENT_BYTES)
        with path.open("r+b") as f:
            self._map = mmap.mmap(f.fileno(), SEGMENT_BYTES)
        self._view = memoryview(self._map)
        self._generation = self._view[_GENERATION_AT : _GENERATION_AT + 8].cast("q")
        self.clock = SharedClock(self._view[:CLOCK_BYTES], owner=owner)

    @property
    def generation(self) -> int:
        return int(self._generation[0])

    def bump(self) -> None:
        """Tell workers their snapshot is stale (primary only)."""
        self._generation[0] += 1


@dataclass
class Snapshot:
    """The primary's state as token workers need it."""

    generation: int
    servers: dict[str, Any]
    scopes: dict[str, Any]
    claims: dict[str, Any]
    clients: dict[Any, Any]
    keys: dict[str, tuple[tuple[str, bytes], tuple[str, bytes] | None]]
    local_tokens: bool


def _key_der(key: SigningKey) -> tuple[str, bytes]:
    der = key.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key.kid, der


def take_snapshot(emulator: IdentityEmulator, generation: int) -> bytes:
    """The pickled :class:`Snapshot` of ``emulator`` (primary side); ``generation`` read before building."""
    store = emulator.store
    with store._lock:
        servers = dict(store._servers)
        snapshot = Snapshot(
            generation=generation,
            servers=servers,
            scopes=dict(store._scopes),
            claims=dict(store._claims),
            clients=dict(store._clients),
            keys={},
            local_tokens=not emulator.faults.rules() and not emulator.defects.enabled(),
        )
    for server_id in servers:
        ring = emulator.keys.ring(server_id)  # creates the ring here, so every process signs with it
        previous = _key_der(ring.previous) if ring.previous is not None else None
        snapshot.keys[server_id] = (_key_der(ring.current), previous)
    return pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)


class SnapshotApplier:
    """Loads snapshots into a worker's own emulator (keys parsed once per kid)."""

    def __init__(self, emulator: IdentityEmulator) -> None:
        self.emulator = emulator
        self.generation = -1
        self.local_tokens = False
        self._keys: dict[str, SigningKey] = {}

    def apply(self, data: bytes) -> None:
        snapshot: Snapshot = pickle.loads(data)
        rings = {}
        for server_id, (current, previous) in snapshot.keys.items():
            ring = KeyRing(self._key(*current))
            if previous is not None:
                ring.previous = self._key(*previous)
            rings[server_id] = ring
        store = self.emulator.store
        with store._lock:
            store._servers = snapshot.servers
            store._scopes = snapshot.scopes
            store._claims = snapshot.claims
            store._clients = snapshot.clients
            store.generation = next(store._generations)
        self.emulator.keys._rings = rings
        self._keys = {
            k: v for k, v in self._keys.items() if any(k == r[0][0] for r in snapshot.keys.values())
        }
        self.local_tokens = snapshot.local_tokens
        self.generation = snapshot.generation

    def _key(self, kid: str, der: bytes) -> SigningKey:
        key = self._keys.get(kid)
        if key is None:
            private = serialization.load_der_private_key(der, password=None)
            assert isinstance(private, rsa.RSAPrivateKey)
            key = self._keys[kid] = SigningKey(kid=kid, private_key=private)
        return key


class Outbox:
    """A worker's token records and log entries, written to its pipe before its response goes out."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.records: list[TokenRecord] = []
        self.entries: list[LoggedRequest] = []

    def record_token(self, record: TokenRecord) -> None:
        self.records.append(record)

    def announce_ready(self) -> None:
        """Tell the primary this worker accepts connections (an empty frame)."""
        os.write(self.fd, _FRAME.pack(0))

    def flush(self) -> None:
        if not self.records and not self.entries:
            return
        data = pickle.dumps((self.records, self.entries), protocol=pickle.HIGHEST_PROTOCOL)
        self.records = []
        self.entries = []
        view = memoryview(_FRAME.pack(len(data)) + data)
        while view:
            view = view[os.write(self.fd, view) :]


class OutboxLog(RequestLog):
    """A worker's request log: entries go to the :class:`Outbox` (the primary keeps the real log)."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(keep=1)
        self.outbox = outbox

    def record(self, entry_args: dict[str, Any]) -> LoggedRequest:
        entry = LoggedRequest(seq=0, **entry_args)
        self.outbox.entries.append(entry)
        return entry


class Inbox:
    """The primary's end of the workers' pipes: :meth:`drain` applies everything written so far."""

    def __init__(self, emulator: IdentityEmulator) -> None:
        self.emulator = emulator
        self._buffers: dict[int, bytearray] = {}
        self._lock = threading.Lock()
        self._last_eviction = emulator.clock.now()
        self.ready = 0
        """Workers that announced they accept connections."""

    def add(self, fd: int) -> None:
        os.set_blocking(fd, False)
        with self._lock:
            self._buffers[fd] = bytearray()

    def fds(self) -> list[int]:
        with self._lock:
            return list(self._buffers)

    def close(self) -> None:
        """Apply what is left and close every pipe (at shutdown)."""
        self.drain()
        with self._lock:
            for fd in self._buffers:
                os.close(fd)
            self._buffers.clear()

    def drain(self) -> None:
        """Read every pipe until it is empty and apply complete frames (cheap when nothing is waiting)."""
        with self._lock:
            for fd, buffer in list(self._buffers.items()):
                while True:
                    try:
                        chunk = os.read(fd, 1 << 20)
                    except BlockingIOError:
                        break
                    if not chunk:  # the worker is gone
                        os.close(fd)
                        del self._buffers[fd]
                        break
                    buffer += chunk
                self._apply(buffer)
            now = self.emulator.clock.now()
            if now - self._last_eviction >= EVICTION_INTERVAL_SECONDS:  # as the issuer does for its own
                self._last_eviction = now
                self.emulator.store.evict_expired(now)

    def _apply(self, buffer: bytearray) -> None:
        store = self.emulator.store
        log = self.emulator.requests
        at = 0
        while len(buffer) - at >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buffer, at)
            if len(buffer) - at - _FRAME.size < size:
                break
            start = at + _FRAME.size
            if size == 0:
                self.ready += 1
                at = start
                continue
            records, entries = pickle.loads(buffer[start : start + size])
            at = start + size
            for record in records:
                store.record_token(record)
            for entry in entries:
                merged = log.record({name: getattr(entry, name) for name in _LOG_FIELDS})
                merged.status = entry.status
                merged.fault_id = entry.fault_id
        del buffer[:at]
