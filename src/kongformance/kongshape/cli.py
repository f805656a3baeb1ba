"""The ``kong`` command of the stand-in image: the subset of Kong's CLI the docker target and users call.

``kong docker-start`` / ``kong start``  start the node in the foreground (Kong/docker-kong's entrypoint
                                        runs ``kong docker-start``); refuses a database that is not
                                        bootstrapped, with Kong's message
``kong migrations bootstrap|up|finish|list|reset [--yes]``
``kong health``                         "Kong is healthy at <prefix>" while the node runs (exit 0), else 1
``kong version``, ``kong prepare``      as Kong's

Errors print as Kong's CLI prints them (``Error: <message>`` on stderr, exit 1), never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from kongformance.gateway import declarative
from kongformance.gateway.app import ReferenceGateway
from kongformance.gateway.proxy import full_version
from kongformance.hidden_control import HiddenControl
from kongformance.kongshape import database
from kongformance.kongshape.conf import ConfError, KongConf, from_env
from kongformance.kongshape.status import status_app

# "on" exposes the reference gateway's /_emulator control surface (its virtual clock) on the Admin API;
# by default it answers 404 there, as on Kong
CONTROL_VARIABLE = "KONGFORMANCE_CONTROL"

USAGE = """Usage: kong COMMAND [OPTIONS]

The available commands are:
 docker-start
 health
 migrations
 prepare
 start
 version
"""


class KongCliError(RuntimeError):
    """Printed as ``Error: <message>``; the command exits 1."""


def _pid_file(conf: KongConf) -> Path:
    return Path(conf.prefix) / "pids" / "nginx.pid"


def cmd_version(conf: KongConf, args: list[str]) -> int:
    major_minor = tuple(int(p) for p in conf.kong_version.split(".")[:2])
    edition = "Kong Enterprise" if major_minor >= (3, 10) else "Kong"
    print(f"{edition} {full_version(conf.kong_version)}")
    return 0


def cmd_prepare(conf: KongConf, args: list[str]) -> int:
    for sub in ("pids", "logs"):
        (Path(conf.prefix) / sub).mkdir(parents=True, exist_ok=True)
    return 0


def cmd_migrations(conf: KongConf, args: list[str]) -> int:
    verb = args[0] if args else "list"
    if conf.db_less:
        raise KongCliError("cannot run migrations when 'database' is 'off'")
    conn = database.connect(conf)
    try:
        if verb == "bootstrap":
            print("Bootstrapping database...")
            if database.bootstrap(conn, conf.kong_version):
                print(f"migrating core on database '{conf.pg_database}'...")
                print("Database is up-to-date")
            else:
                print("Database already bootstrapped")
        elif verb in ("up", "finish", "list"):
            if not database.is_bootstrapped(conn):
                if verb == "list":
                    print(database.NEEDS_BOOTSTRAP_MSG.rstrip())
                    return 3
                raise KongCliError(
                    "Cannot run migrations: database needs bootstrapping; run 'kong migrations bootstrap'"
                )
            print(
                "Database is already up-to-date"
                if verb != "list"
                else "Executed migrations:\ncore: kongformance"
            )
        elif verb == "reset":
            if "--yes" not in args and "-y" not in args:
                raise KongCliError("'kong migrations reset' needs --yes (this stand-in never prompts)")
            if database.reset(conn):
                print("Resetting database...\nDatabase successfully reset")
            else:
                print("Database not bootstrapped, nothing to reset")
        else:
            raise KongCliError(f"unknown migrations command: {verb}")
    finally:
        conn.close()
    return 0


def cmd_health(conf: KongConf, args: list[str]) -> int:
    pid_file = _pid_file(conf)
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        raise KongCliError(f"Kong is not running at {conf.prefix}") from None
    print("nginx.......running\n")
    print(f"Kong is healthy at {conf.prefix}")
    return 0


def _check_license(conf: KongConf) -> None:
    """KONG_LICENSE_DATA must be Kong's license JSON ({"license": {...}}); its content is never printed."""
    if conf.license_data is None:
        return
    try:
        doc = json.loads(conf.license_data)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("license"), dict):
        print(
            "[license-utils] could not decode license JSON: KONG_LICENSE_DATA is not a license",
            file=sys.stderr,
            flush=True,
        )


def build_node(conf: KongConf) -> tuple[ReferenceGateway, list[tuple[Any, Any, bool]], Any]:
    """The gateway, its listeners ``(app, Listener, ssl)`` and the database connection (or None)."""
    gateway = ReferenceGateway(
        kong_version=conf.kong_version, db_less=conf.db_less, trusted_ips=conf.trusted_ips
    )
    conn = None
    database_ok = None
    if not conf.db_less:
        conn = database.connect(conf)
        if not database.is_bootstrapped(conn):
            conn.close()
            raise KongCliError(database.NEEDS_BOOTSTRAP_MSG)
        database.PersistentTables(conn, gateway.runtime.store).load()

        def database_ok() -> bool:
            try:
                conn.execute("SELECT 1")
                conn.commit()
            except Exception:  # noqa: BLE001 - any failure: not reachable
                return False
            return True

    elif conf.declarative_config:
        try:
            raw = Path(conf.declarative_config).read_bytes()
        except OSError as exc:
            raise KongCliError(
                f"failed loading declarative config file: {exc.strerror}: {conf.declarative_config}"
            ) from None
        status, body = declarative.load(gateway.runtime, raw)
        if status != 201:
            raise KongCliError(
                "failed loading declarative config file: " + json.dumps(body.get("fields", body))
            )
    _check_license(conf)
    listeners: list[tuple[Any, Any, bool]] = []
    proxy, admin = gateway.proxy_app, gateway.admin_app
    if os.environ.get(CONTROL_VARIABLE) != "on":  # hidden by default: Kong has no /_emulator
        proxy, admin = HiddenControl(proxy, "proxy"), HiddenControl(admin, "admin")
    listeners += [(proxy, lst, lst.ssl) for lst in conf.proxy_listen]
    listeners += [(admin, lst, lst.ssl) for lst in conf.admin_listen]
    status_api = status_app(gateway.runtime, database_ok)
    listeners += [(status_api, lst, lst.ssl) for lst in conf.status_listen]
    return gateway, listeners, conn


def cmd_start(conf: KongConf, args: list[str]) -> int:
    from kongformance.serving import bind_socket, serve_sockets_forever

    gateway, listeners, conn = build_node(conf)
    cert, key = gateway.tls_files()
    bound = []
    for app, lst, ssl in listeners:
        try:
            sock = bind_socket(lst.host, lst.port)
        except OSError as exc:
            raise KongCliError(
                f"bind() to {lst.host}:{lst.port} failed ({exc.errno}: {exc.strerror})"
            ) from None
        bound.append((app, sock, cert if ssl else None, key if ssl else None))
        scheme = "https" if ssl else "http"
        print(f"listening on {scheme}://{lst.host}:{lst.port}", flush=True)
    cmd_prepare(conf, [])
    _pid_file(conf).write_text(str(os.getpid()))
    print(
        f"Kong started (kongformance stand-in, Kong {conf.kong_version}, database={conf.database})",
        flush=True,
    )
    try:
        serve_sockets_forever(bound, date_header=False)
    finally:
        _pid_file(conf).unlink(missing_ok=True)
        if conn is not None:
            conn.close()
    return 0


COMMANDS = {
    "docker-start": cmd_start,
    "start": cmd_start,
    "migrations": cmd_migrations,
    "health": cmd_health,
    "version": cmd_version,
    "prepare": cmd_prepare,
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 1
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"Error: No such command for kong: {argv[0]}\n\n{USAGE}", file=sys.stderr)
        return 1
    try:
        return command(
            from_env(), [a for a in argv[1:] if not a.startswith(("-p", "--prefix", "-c", "--conf"))]
        )
    except (ConfError, KongCliError, database.DatabaseError) as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
