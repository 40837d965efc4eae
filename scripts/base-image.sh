#!/usr/bin/env bash
# Builds a Debian base image for the dockfleet image with no registry: debootstrap (minbase)
# plus Python, redis-server and busybox (the workers' service probe), imported into the
# local engine. Prints the image's tag.
#
# The tag is a hash of this script (suite, mirror and package list included), so a rerun
# with nothing changed finds the image and returns at once; a changed list makes a new one.
set -euo pipefail

suite=${DOCKFLEET_BASE_SUITE:-bookworm}
mirror=${DOCKFLEET_BASE_MIRROR:-http://deb.debian.org/debian}
packages=python3,python3-venv,redis-server,ca-certificates,busybox-static
hash=$( { cat "$0"; echo "$suite $mirror $packages"; } | sha256sum | cut -c1-12)
tag="dockfleet-base:$hash"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
  echo "debootstrap is missing: apt-get install debootstrap" >&2
  exit 1
}
root=$(mktemp -d /var/tmp/dockfleet-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "==> debootstrap $suite with $packages (about a minute, once)" >&2
debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  rm -f "$root.log"
  exit 1
}
rm -f "$root.log"
# What an image does not need: package caches and lists, docs, man pages.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
echo "==> importing $tag" >&2
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["/bin/bash"]' \
  -c "LABEL org.dockfleet.base=$hash" \
  - "$tag" >/dev/null
echo "$tag"
