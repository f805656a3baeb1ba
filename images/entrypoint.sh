#!/bin/sh
# Start one kongformance component in the foreground, unbuffered (python3 -u), ports from the environment.
# Arguments given to `docker run IMAGE ...` are appended and override these defaults.
#   identity: KONGFORMANCE_HOST (127.0.0.1), KONGFORMANCE_IDENTITY_PORT (8300)
#   gateway:  KONGFORMANCE_ADMIN_PORT (8001), KONGFORMANCE_PROXY_PORT (8000), KONGFORMANCE_PROXY_SSL_PORT (8443),
#             KONGFORMANCE_KONG_VERSION (3.15), KONGFORMANCE_DB_LESS (1 = --db-less)
#   upstream: KONGFORMANCE_HOST (127.0.0.1), KONGFORMANCE_UPSTREAM_PORT (8088)
#   all:      KONGFORMANCE_DEFECTS=a,b switches defects on (read by each component)
set -eu
component=${KONGFORMANCE_COMPONENT:?KONGFORMANCE_COMPONENT is not set}
host=${KONGFORMANCE_HOST:-127.0.0.1}
case "$component" in
identity)
  set -- --host "$host" --port "${KONGFORMANCE_IDENTITY_PORT:-8300}" "$@"
  ;;
gateway)
  if [ "${KONGFORMANCE_DB_LESS:-0}" = "1" ]; then set -- --db-less "$@"; fi
  set -- --admin-port "${KONGFORMANCE_ADMIN_PORT:-8001}" --proxy-port "${KONGFORMANCE_PROXY_PORT:-8000}" \
    --proxy-ssl-port "${KONGFORMANCE_PROXY_SSL_PORT:-8443}" \
    --kong-version "${KONGFORMANCE_KONG_VERSION:-3.15}" "$@"
  ;;
upstream)
  set -- --host "$host" --port "${KONGFORMANCE_UPSTREAM_PORT:-8088}" "$@"
  ;;
*)
  echo "unknown component: $component" >&2
  exit 2
  ;;
esac
exec python3 -u -m kongformance.cli serve "$component" "$@"
