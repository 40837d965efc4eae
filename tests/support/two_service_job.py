"""The two-service job file the job-file and compose tests run, and the image of its "db".

- ``web`` has a HEALTHCHECK; ``db`` (like stock postgres) has none, exposes a port and
  listens only a second after it started, and only once it has read its password from
  its env: the fleet must find it ready from inside the job network.
- The job reaches both by alias; the secret comes from the caller's environment (TOKEN).
"""

from __future__ import annotations

import docker

from tests.conftest import TEST_IMAGE
from tests.support.planting import build_image

SLOW_DB = f"""\
FROM {TEST_IMAGE}
EXPOSE 5432
CMD ["sh", "-c", "sleep 1; [ -n \\"$DB_PASSWORD\\" ] || exit 3; \
while :; do echo \\"ready for $DB_USER\\" | nc -l -p 5432; done"]
"""
SERVE = (
    'mkdir -p /tmp/www && echo "pong $SVC_TOKEN" > /tmp/www/ping && touch /tmp/ready'
    " && exec httpd -f -p 8080 -h /tmp/www"
)
#: what the job prints when both services answered (the token masked)
EXPECTED_OUTPUT = ["token=***", "ready for ci", "pong ***"]


def build_slow_db(engine: docker.DockerClient) -> str:
    """Build the "db" service's image on `engine`; its tag (remove it when done)."""
    return build_image(engine, SLOW_DB, "dockfleet-test-slow-db")


def job_file(db_image: str) -> str:
    """The job file's text (YAML), its secrets from the caller's TOKEN variable."""
    return f"""\
container:
  image: {TEST_IMAGE}
  cmd: [sh, -c, 'echo "token=$TOKEN"; sleep 2; nc -w 2 db 5432 </dev/null; wget -q -O- http://web:8080/ping']
services:
  - alias: db
    readiness_timeout: 30s
    container:
      image: {db_image}
      env: {{DB_USER: ci}}
      secret_env: {{DB_PASSWORD: {{from_env: TOKEN}}}}
  - alias: web
    readiness_timeout: 30s
    container:
      image: {TEST_IMAGE}
      cmd: [sh, -c, '{SERVE}']
      secret_env: {{SVC_TOKEN: {{from_env: TOKEN}}}}
      health_check: {{test: test -f /tmp/ready, interval: 0.2s, retries: 100}}
timeout: 60s
labels: {{suite: job-files}}
"""
