#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket; starts dockerd if none does.
set -euo pipefail

state_dir=${DOCKFLEET_STATE_DIR:-$(pwd)/.state}
mkdir -p "$state_dir"

if docker version >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "no Docker engine answers and starting dockerd needs root" >&2
  exit 1
fi
echo "==> starting dockerd (log: $state_dir/dockerd.log)"
nohup dockerd >"$state_dir/dockerd.log" 2>&1 &
for _ in $(seq 1 100); do
  docker version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "dockerd did not come up; last lines of its log:" >&2
tail -n 20 "$state_dir/dockerd.log" >&2
exit 1
