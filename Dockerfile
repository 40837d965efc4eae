# The dockfleet image: one image for the worker, beat, Flower and the exporter (the
# command picks). The base is a build argument: python:3.11-slim by default; any Debian or
# Ubuntu image with python3 and python3-venv will do (the compose test uses one built with
# debootstrap, scripts/base-image.sh, since no registry is reachable there).
#
#   docker build -t dockfleet .                                   # needs PyPI at build time
#   scripts/wheelhouse.sh && docker build -t dockfleet .          # offline, from .wheels/
#   docker build --build-arg BASE_IMAGE=debian-with-python:12 -t dockfleet .
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# Marks this stage's leftovers (untagged with the classic builder) for `docker image prune`.
LABEL org.dockfleet.stage=build
COPY . /src
RUN python3 -m venv /opt/dockfleet \
 && if ls /src/.wheels/dockfleet-*.whl >/dev/null 2>&1; then \
      /opt/dockfleet/bin/pip install -q --no-index --find-links /src/.wheels dockfleet; \
    else \
      /opt/dockfleet/bin/pip install -q /src; \
    fi \
 && /opt/dockfleet/bin/dockfleet --version

FROM ${BASE_IMAGE}
# Workers probe job services with a container made from this static busybox (no registry
# needed); the debootstrap base has it already, other bases get Debian's package.
RUN command -v busybox >/dev/null || { apt-get update -qq \
      && apt-get install -y -qq --no-install-recommends busybox-static \
      && rm -rf /var/lib/apt/lists/*; }
LABEL org.opencontainers.image.title="dockfleet" \
      org.opencontainers.image.description="CI/CD Docker work on a fleet of Celery workers"
COPY --from=build /opt/dockfleet /opt/dockfleet
ENV PATH=/opt/dockfleet/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DOCKFLEET_LOG_FORMAT=json
WORKDIR /tmp
# Workers run as root only because they talk to the Docker socket (compose sets it);
# beat, Flower and the exporter run as nobody.
USER 65534:65534
CMD ["dockfleet", "--help"]
