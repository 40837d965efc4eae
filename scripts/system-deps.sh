#!/usr/bin/env bash
# Installs the Debian packages dockfleet needs when they are missing (run as root).
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker >/dev/null 2>&1 || need+=(docker.io)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /bin/busybox ] || command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The image tests run a private registry with htpasswd auth.
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
# The metrics test runs a real Prometheus against the exporter (and promtool lints it).
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
# the example systemd unit is checked with systemd-analyze verify
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)
# The Flower test screenshots the dashboard; the compose test builds its base image.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
# The GitLab example runs under gitlab-ci-local (scripts/gitlab-ci-local.sh): Node, npm,
# rsync, and a C++ compiler for its native regex module.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)

if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
