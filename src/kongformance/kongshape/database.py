"""The stand-in's Postgres storage: Kong's ``schema_meta`` bootstrap marker and the entity tables.

``kong migrations bootstrap`` creates ``schema_meta`` (the table Kong's migrations record themselves in)
and one ``kongformance_entities`` table; ``kong start`` refuses a database without ``schema_meta`` with
Kong's own message (``NEEDS_BOOTSTRAP_MSG`` in Kong's kong/cmd/utils/migrations.lua), then loads every
entity into the reference gateway's store and writes each change back (write-through, one transaction per
change). psycopg 3 is imported lazily: only the ``kong-standin`` extra installs it.
"""

from __future__ import annotations

import json
from typing import Any

from kongformance.gateway.store import EntityStore
from kongformance.kongshape.conf import KongConf

# Kong's kong/cmd/utils/migrations.lua (3.x), printed after "Error: " by the kong command
NEEDS_BOOTSTRAP_MSG = (
    "Database needs bootstrapping or is older than Kong 1.0.\n\n"
    "To start a new installation from scratch, run 'kong migrations bootstrap'.\n\n"
    "To migrate from a version older than 1.0, migrated to Kong 1.5.0 first. \n"
    "If you still have 'apis' entities, you can convert them to Routes and Services\n"
    "using the 'kong migrations migrate-apis' command in Kong 1.5.0.\n\n"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_meta (
  key text, subsystem text, last_executed text, executed text[], pending text[],
  PRIMARY KEY (key, subsystem)
);
CREATE TABLE IF NOT EXISTS kongformance_entities (
  position bigserial, tbl text NOT NULL, id text NOT NULL, body jsonb NOT NULL, given jsonb,
  PRIMARY KEY (tbl, id)
);
"""


class DatabaseError(RuntimeError):
    """Postgres cannot be reached or used; the message is one line."""


def connect(conf: KongConf) -> Any:
    """A psycopg connection from ``KONG_PG_*`` (autocommit off)."""
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "[PostgreSQL error] psycopg is not installed (pip install 'kongformance[kong-standin]')"
        ) from None
    try:
        return psycopg.connect(
            host=conf.pg_host,
            port=conf.pg_port,
            user=conf.pg_user,
            password=conf.pg_password or None,
            dbname=conf.pg_database,
            connect_timeout=max(1, conf.pg_timeout_ms // 1000),
        )
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"[PostgreSQL error] failed to connect: {first}") from None


def is_bootstrapped(conn: Any) -> bool:
    """Whether ``schema_meta`` exists and records the core migrations (Kong's ``needs_bootstrap``)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_meta') IS NOT NULL")
        (exists,) = cur.fetchone()
        if not exists:
            return False
        cur.execute("SELECT count(*) FROM schema_meta WHERE key = 'schema_meta'")
        (count,) = cur.fetchone()
    conn.commit()
    return bool(count)


def bootstrap(conn: Any, kong_version: str) -> bool:
    """Create the schema; False when it was already bootstrapped (Kong: "Database already bootstrapped")."""
    if is_bootstrapped(conn):
        return False
    with conn.cursor() as cur:
        cur.execute(_SCHEMA)
        cur.execute(
            "INSERT INTO schema_meta (key, subsystem, last_executed, executed, pending)"
            " VALUES ('schema_meta', 'core', %s, %s, '{}')",
            (f"kongformance_{kong_version}", [f"kongformance_{kong_version}"]),
        )
    conn.commit()
    return True


def reset(conn: Any) -> bool:
    """Drop the schema (``kong migrations reset --yes``); False when there was nothing to reset."""
    if not is_bootstrapped(conn):
        return False
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS kongformance_entities; DROP TABLE IF EXISTS schema_meta;")
    conn.commit()
    return True


class PersistentTables:
    """Loads a store from Postgres and writes every later change back to it."""

    def __init__(self, conn: Any, store: EntityStore) -> None:
        self.conn = conn
        self.store = store
        self._saved: dict[tuple[str, str], str] = {}

    def load(self) -> int:
        """Fill the store's tables from Postgres (in insertion order); returns the number of entities."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT tbl, id, body, given FROM kongformance_entities ORDER BY position")
            rows = cur.fetchall()
        self.conn.commit()
        for table, eid, body, given in rows:
            if table not in self.store.tables:
                continue
            self.store.tables[table][eid] = body
            if given is not None:
                self.store.given[eid] = given
            self._saved[(table, eid)] = _dump(body, given)
        if rows:
            self.store.generation += 1
            for listener in self.store.listeners:
                listener()
        self.store.listeners.append(self.save)
        return len(rows)

    def save(self) -> None:
        """Write the difference between the store and the database in one transaction."""
        current: dict[tuple[str, str], tuple[Any, Any]] = {}
        for table, rows in self.store.tables.items():
            for eid, body in rows.items():
                current[(table, eid)] = (body, self.store.given.get(eid))
        dumped = {key: _dump(*value) for key, value in current.items()}
        gone = [key for key in self._saved if key not in current]
        changed = [key for key, text in dumped.items() if self._saved.get(key) != text]
        if not gone and not changed:
            return
        with self.conn.cursor() as cur:
            for table, eid in gone:
                cur.execute("DELETE FROM kongformance_entities WHERE tbl = %s AND id = %s", (table, eid))
            for key in changed:
                body, given = current[key]
                cur.execute(
                    "INSERT INTO kongformance_entities (tbl, id, body, given) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (tbl, id) DO UPDATE SET body = EXCLUDED.body, given = EXCLUDED.given",
                    (key[0], key[1], json.dumps(body, default=str), json.dumps(given, default=str)),
                )
        self.conn.commit()
        for key in gone:
            del self._saved[key]
        for key in changed:
            self._saved[key] = dumped[key]


def _dump(body: Any, given: Any) -> str:
    return json.dumps([body, given], sort_keys=True, default=str)
