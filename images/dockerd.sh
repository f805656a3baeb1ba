#!/usr/bin/env bash
# Start or stop a private Docker engine (Debian docker.io) for the docker target and the image builds.
#   images/dockerd.sh start RUN_DIR   -> prints `export DOCKER_HOST=...` lines to eval
#   images/dockerd.sh stop RUN_DIR
# The engine runs with --bridge=none (containers use the host network, every port on 127.0.0.1) and keeps
# its images under KONGFORMANCE_DOCKER_DATA (default /var/tmp/kongformance-docker) so the base image
# survives between runs on the same machine.
set -euo pipefail

cmd=${1:?usage: dockerd.sh start|stop RUN_DIR}
run=${2:?usage: dockerd.sh start|stop RUN_DIR}
data=${KONGFORMANCE_DOCKER_DATA:-/var/tmp/kongformance-docker}

case "$cmd" in
start)
  mkdir -p "$run" "$data"
  dockerd -H "unix://$run/docker.sock" --data-root "$data" --exec-root "$run/exec" \
    --pidfile "$run/dockerd.pid" --bridge=none --iptables=false --ip-masq=false \
    >"$run/dockerd.log" 2>&1 &
  # Poll until the engine answers (at most ~30 s); dockerd normally needs under a second.
  for _ in $(seq 1 300); do
    if DOCKER_HOST="unix://$run/docker.sock" docker version >/dev/null 2>&1; then
      echo "export DOCKER_HOST=unix://$run/docker.sock"
      echo "export TESTCONTAINERS_RYUK_DISABLED=true"
      echo "export TESTCONTAINERS_CONNECTION_MODE=docker_host"
      echo "export KF_DOCKER_NETWORK=host" # this engine has no default bridge: host networking, loopback
      exit 0
    fi
    sleep 0.1
  done
  echo "dockerd did not start; log follows" >&2
  cat "$run/dockerd.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$run/dockerd.pid" ]; then
    pid=$(cat "$run/dockerd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # dockerd leaves its network-namespace bind mount behind; unmount everything under the run dir
  awk -v run="$run/" 'index($2, run) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done
  ;;
*)
  echo "usage: dockerd.sh start|stop RUN_DIR" >&2
  exit 2
  ;;
esac
