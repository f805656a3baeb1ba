#!/bin/sh
# Run postgres in the foreground on PGPORT (5432), listening on POSTGRES_LISTEN (default *; the docker target
# sets 127.0.0.1 on the host network). The cluster is initialised when the image is built; the first start
# creates POSTGRES_USER (a superuser) with POSTGRES_PASSWORD and the database POSTGRES_DB in single-user
# mode (no server start and stop). A throwaway test database: fsync off.
set -eu
port="${PGPORT:-5432}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -E UTF8 --locale=C -U postgres --auth-host=scram-sha-256 --auth-local=trust >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
if [ ! -f "$PGDATA/kongformance-users" ]; then
  quote() { printf '%s' "$1" | sed "s/'/''/g"; }
  ident() { printf '%s' "$1" | sed 's/"/""/g'; }
  {
    if [ "$user" = "postgres" ]; then
      echo "ALTER ROLE postgres PASSWORD '$(quote "${POSTGRES_PASSWORD:-}")'"
    else
      echo "CREATE ROLE \"$(ident "$user")\" LOGIN SUPERUSER PASSWORD '$(quote "${POSTGRES_PASSWORD:-}")'"
    fi
    if [ "$db" != "postgres" ]; then
      echo "CREATE DATABASE \"$(ident "$db")\" OWNER \"$(ident "$user")\""
    fi
  } | postgres --single -D "$PGDATA" postgres >/dev/null
  touch "$PGDATA/kongformance-users"
fi
exec postgres -D "$PGDATA" -p "$port" -c "listen_addresses=${POSTGRES_LISTEN:-*}" \
  -c unix_socket_directories=/tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off "$@"
