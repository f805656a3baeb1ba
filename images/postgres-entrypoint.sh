#!/bin/sh
# Initialise the cluster on first start (the user, password and database from POSTGRES_*), then run
# postgres in the foreground on PGPORT (5432), listening on POSTGRES_LISTEN (default *; the docker target
# sets 127.0.0.1 on the host network). A throwaway test database: fsync off.
set -eu
port="${PGPORT:-5432}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  initdb -D "$PGDATA" -E UTF8 --locale=C -U "$user" --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=trust >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != "postgres" ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp -p $port" -w start >/dev/null
    createdb -h /tmp -p "$port" -U "$user" "$db"
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
exec postgres -D "$PGDATA" -p "$port" -c "listen_addresses=${POSTGRES_LISTEN:-*}" \
  -c unix_socket_directories=/tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off "$@"
