#!/usr/bin/env bash
# Installs the pinned gitlab-ci-local into .state/node of this checkout (never globally) and
# prints the path of its binary; quick when that version is already there.
set -euo pipefail

# 4.57+ needs Node 22; Debian 12 has Node 18 and this machine Node 20.
version=4.56.2
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.state/node"
modules="$prefix/node_modules"
binary="$modules/.bin/gitlab-ci-local"

installed() {
  [ -x "$binary" ] &&
    grep -q "\"version\": \"$version\"" "$modules/gitlab-ci-local/package.json" &&
    # its native regex module: absent when an earlier install was interrupted mid-build
    [ -f "$modules/re2/build/Release/re2.node" ]
}

if ! installed; then
  for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/system-deps.sh" >&2; exit 1; }
  done
  # re2 is compiled here (its prebuilt download needs GitHub): against the headers beside
  # this node when they are there (Debian's libnode-dev), rather than fetched ones.
  node_root=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  if [ -f "$node_root/include/node/node_version.h" ]; then
    export npm_config_nodedir="$node_root"
  fi
  echo "==> installing gitlab-ci-local $version into $prefix (compiles re2: minutes, once)" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "gitlab-ci-local@$version" >&2
  installed || { echo "gitlab-ci-local $version did not install into $prefix" >&2; exit 1; }
fi
echo "$binary"
