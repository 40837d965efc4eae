#!/usr/bin/env bash
# A real CI job through a real local fleet: Redis, one worker bound to the local
# engine, and the dockfleet CLI. Everything it starts, it stops.
set -euo pipefail

state=${DOCKFLEET_STATE_DIR:-$(pwd)/.state}
mkdir -p "$state"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DOCKFLEET_REDIS_URL="redis://127.0.0.1:$port/0"
export DOCKFLEET_HOST_NAME="${DOCKFLEET_HOST_NAME:-$(hostname -s)}"
export DOCKFLEET_HEARTBEAT_INTERVAL=1
service_image=dockfleet-demo-web:local

cleanup() {
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  docker rmi -f "$service_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

show() { echo; echo "\$ $*"; "$@"; }

echo "==> Redis on 127.0.0.1:$port"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --logfile "$state/demo-redis.log" >/dev/null
echo "==> worker for Docker host '$DOCKFLEET_HOST_NAME' (log: $state/demo-worker.log)"
celery -A worker.app worker -n "$DOCKFLEET_HOST_NAME@%h" --without-mingle --without-gossip \
  -l INFO >"$state/demo-worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 1 100); do
  dockfleet hosts --json 2>/dev/null | grep -q '"up": true' && break
  sleep 0.2
done
show dockfleet hosts

echo "==> building the service image $service_image from busybox:local"
docker build -q -t "$service_image" scripts/demo-service >/dev/null 2>&1

job='echo "checking out..."; for step in lint unit; do echo "step $step: ok"; sleep 0.3; done
echo "integration: asking the web service"; wget -q -O- http://web:8080/status
echo "token is $TOKEN"; echo "warning: 1 flaky test" >&2'
show dockfleet run --service "$service_image=web" --secret-env TOKEN=hunter2 -m 128m --cpus 1 \
  -l pipeline=demo busybox:local -- sh -c "$job"
echo "(exit code $?)"

show dockfleet run --timeout 2s busybox:local -- sleep 60 || echo "(exit code $?: timed out)"
show dockfleet ps -a
