#!/usr/bin/env bash
# Fills .wheels/ with wheels of dockfleet and every dependency, so that the dockfleet image
# builds with no network inside the build (the Dockerfile installs from them when present).
# Wheels of the dependencies are kept between runs; dockfleet's own is made anew each time.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
mkdir -p .wheels
rm -f .wheels/dockfleet-*.whl
# async-timeout: redis needs it below Python 3.11.3 (Debian 12 has 3.11.2) and pip
# resolves markers for this interpreter only.
"$python" -m pip wheel -q --disable-pip-version-check --find-links .wheels --wheel-dir .wheels \
  . "async-timeout>=4.0.3" \
  2> >(grep -v '^WARNING: Location' >&2)
