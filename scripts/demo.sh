#!/usr/bin/env bash
# A real CI job through a real local fleet: `dockfleet up` starts Redis, a worker bound to the
# local engine, beat and Flower; a job with a service runs through it; `dockfleet down` stops
# it all. The demo keeps its own state folder, so a fleet you run yourself is left alone.
set -euo pipefail

export DOCKFLEET_STATE_DIR=${DOCKFLEET_DEMO_STATE_DIR:-$(pwd)/.state/demo}
export DOCKFLEET_HEARTBEAT_INTERVAL=1 DOCKFLEET_STATS_INTERVAL=2
unset DOCKFLEET_REDIS_URL # the demo's fleet has its own Redis
host="${DOCKFLEET_HOST_NAME:-$(hostname -s)}"
service_image=dockfleet-demo-web:local

cleanup() {
  dockfleet down >/dev/null 2>&1 || true
  docker rmi -f "$service_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

show() { echo; echo "\$ $*"; "$@"; }

show dockfleet up --detach --host-name "$host"
show dockfleet hosts

echo
echo "==> building the service image $service_image from busybox:local"
# (quietly: the engine's classic builder prints a deprecation notice; errors still show)
docker build -q -t "$service_image" scripts/demo-service >/dev/null 2>&1 ||
  docker build -t "$service_image" scripts/demo-service

job='echo "checking out..."; for step in lint unit; do echo "step $step: ok"; sleep 0.3; done
echo "integration: asking the web service"; wget -q -O- http://web:8080/status
echo "token is $TOKEN"; echo "warning: 1 flaky test" >&2'
echo
echo "==> a CI job with a service, sent in the background, then its live log and its result"
job_id=$(dockfleet run -d --service "$service_image=web" --secret-env TOKEN=hunter2 -m 128m \
  --cpus 1 -l pipeline=demo busybox:local -- sh -c "$job")
show dockfleet logs -f "$job_id"
show python3 -c "from dockfleet import Fleet
print(Fleet().job('$job_id').wait().model_dump_json(indent=2, exclude_none=True))"

set +e
show dockfleet run --timeout 2s busybox:local -- sleep 60
echo "(exit code $?; 124 means timed out)"
set -e

# Something running for `stats` to show: a job in the background, sampled by beat.
job_id=$(dockfleet run -d busybox:local -- sh -c 'while :; do :; done')
sleep 5
show dockfleet stats --no-stream
show dockfleet cancel "$job_id"
show dockfleet cleanup --dry-run

pids=$(python3 -c 'import json, sys
print(" ".join(str(p["pid"]) for p in json.load(open(sys.argv[1]))["processes"]))' \
  "$DOCKFLEET_STATE_DIR/fleet.json")
show dockfleet down
echo
echo "==> left behind: $(docker ps -aq --filter "label=dockfleet.host=$host" | wc -l) containers," \
  "$(ps -o pid= -p "${pids// /,}" | wc -l) of the fleet's processes ($pids)"
