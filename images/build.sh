#!/usr/bin/env bash
# Build the docker target's images locally, with no registry:
#   kongformance/base      Debian bookworm minbase + python3 (mmdebstrap | docker import); skipped when present
#   kongformance/runtime   kongformance installed from a wheelhouse built here on the host
#   kongformance/identity, kongformance/gateway, kongformance/upstream   one component each
#   kongformance/kong:<v>  the Kong-shaped stand-in, one tag per version in KONG_VERSIONS (3.9 3.14 3.15)
#   kongformance/postgres-base  Debian bookworm minbase + postgresql-15 (mmdebstrap | docker import); skipped
#                          when present; built in parallel with the wheelhouse
#   kongformance/postgres:15    its entrypoint (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, PGPORT)
# Nothing is pulled: every FROM names one of these local images.
# Needs DOCKER_HOST pointing at an engine (images/dockerd.sh start RUN_DIR), mmdebstrap, and a Python
# with pip (PYTHON, default .venv/bin/python) that can reach PyPI for the wheelhouse.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
python=${PYTHON:-$root/.venv/bin/python}
ctx=${KONGFORMANCE_IMAGE_CONTEXT:-$root/.build/images}
suite=${DEBIAN_SUITE:-bookworm}

log() { printf '[images] %s\n' "$*" >&2; }
# docker build, its output shown only when it fails (the legacy builder prints a deprecation notice)
build() {
  if ! out=$(docker build --quiet --network host "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

if docker image inspect kongformance/base >/dev/null 2>&1; then
  log "kongformance/base present; not rebuilt"
else
  log "building kongformance/base from Debian $suite (mmdebstrap, about a minute)"
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv "$suite" - | docker import - kongformance/base
fi

pg_pid=""
if docker image inspect kongformance/postgres-base >/dev/null 2>&1; then
  log "kongformance/postgres-base present; not rebuilt"
else
  log "building kongformance/postgres-base from Debian $suite (mmdebstrap + postgresql-15, in the background)"
  (mmdebstrap --quiet --variant=minbase --include=postgresql-15 "$suite" - | docker import - kongformance/postgres-base >/dev/null) &
  pg_pid=$!
fi

log "building the wheelhouse in $ctx/wheels"
rm -rf "$ctx"
mkdir -p "$ctx/wheels"
"$python" -m pip wheel --quiet --wheel-dir "$ctx/wheels" "$root[kong-standin]"
cp "$here"/Dockerfile.* "$here"/*entrypoint.sh "$here/kong.sh" "$ctx/"

log "building kongformance/runtime"
build -t kongformance/runtime -f "$ctx/Dockerfile.runtime" "$ctx"
for component in identity gateway upstream; do
  log "building kongformance/$component"
  build --build-arg "COMPONENT=$component" -t "kongformance/$component" -f "$ctx/Dockerfile.component" "$ctx"
done
for version in ${KONG_VERSIONS:-3.9 3.14 3.15}; do
  log "building kongformance/kong:$version"
  build --build-arg "KONG_VERSION=$version" -t "kongformance/kong:$version" -f "$ctx/Dockerfile.kong" "$ctx"
done
if [ -n "$pg_pid" ] && ! wait "$pg_pid"; then
  log "building kongformance/postgres-base failed"
  exit 1
fi
log "building kongformance/postgres:15"
build -t kongformance/postgres:15 -f "$ctx/Dockerfile.postgres" "$ctx"
log "done: $(docker image ls --format '{{.Repository}}' 'kongformance/*' | sort | tr '\n' ' ')"
