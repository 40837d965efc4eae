#!/usr/bin/env bash
# A real CI-style step through a real local fleet: Redis, one worker bound to the
# local engine, and the dockfleet CLI. Everything it starts, it stops.
set -euo pipefail

state=${DOCKFLEET_STATE_DIR:-$(pwd)/.state}
mkdir -p "$state"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DOCKFLEET_REDIS_URL="redis://127.0.0.1:$port/0"
export DOCKFLEET_HOST_NAME="${DOCKFLEET_HOST_NAME:-$(hostname -s)}"
export DOCKFLEET_HEARTBEAT_INTERVAL=1

cleanup() {
  [ -n "${worker_pid:-}" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}
trap cleanup EXIT

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

echo; echo "\$ dockfleet hosts"; dockfleet hosts
echo; echo "\$ dockfleet info"; dockfleet info

script='echo "building..."; for step in lint unit integration; do echo "step $step: ok"; sleep 0.3; done; echo "warning: 1 flaky test" >&2; exit 0'
echo; echo "\$ dockfleet create --name demo-job -m 128m --cpus 1 --secret-env TOKEN=hunter2 busybox:local -- sh -c '...'"
id=$(dockfleet create --name demo-job -m 128m --cpus 1 --secret-env TOKEN=hunter2 \
  -l pipeline=demo busybox:local -- sh -c "echo token=\$TOKEN; $script")
echo "$id"
echo; echo "\$ dockfleet start demo-job && dockfleet logs -f demo-job"
dockfleet start demo-job >/dev/null
dockfleet logs -f demo-job
echo; echo "\$ dockfleet wait demo-job"
code=$(dockfleet wait demo-job)
echo "exit code: $code"
echo; echo "\$ dockfleet ps -a --filter label=pipeline=demo"
dockfleet ps -a --filter label=pipeline=demo
echo; echo "\$ dockfleet rm demo-job"
dockfleet rm demo-job
exit "$code"
