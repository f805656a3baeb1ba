#!/bin/sh
# The stand-in's /docker-entrypoint.sh, shaped like Kong/docker-kong's: <VAR>_FILE fills <VAR> from a file
# (Docker secrets) for the settings that hold secrets, `kong docker-start` prepares the prefix first, and
# any other command runs as given (`kong migrations bootstrap`, `kong health`, `sh`).
set -eu
export KONG_NGINX_DAEMON="${KONG_NGINX_DAEMON:-off}"
for var in KONG_PG_PASSWORD KONG_PG_USER KONG_LICENSE_DATA KONG_PASSWORD; do
  eval "file=\${${var}_FILE:-}"
  if [ -n "$file" ]; then
    eval "current=\${${var}:-}"
    if [ -n "$current" ]; then
      echo "error: both $var and ${var}_FILE are set (but are exclusive)" >&2
      exit 1
    fi
    export "$var=$(cat "$file")"
    unset "${var}_FILE"
  fi
done
PREFIX="${KONG_PREFIX:=/usr/local/kong}"
export KONG_PREFIX
if [ "${1:-}" = "kong" ] && [ "${2:-}" = "docker-start" ]; then
  kong prepare -p "$PREFIX"
fi
exec "$@"
