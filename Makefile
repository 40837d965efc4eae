# dockfleet: `make demo` runs a real job through a local fleet; `make test` runs the tests;
# `make bench` measures the fleet against raw Docker (`make bench-quick`: each benchmark briefly).
# All install what is missing on a Debian/Ubuntu machine (as root) and start dockerd.

VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed
#: the engine the benchmarks measure, and where `make bench` writes its Markdown report
BENCH_DOCKER_HOST ?= unix:///var/run/docker.sock
BENCH_REPORT      ?= .state/benchmarks.md

.PHONY: setup system venv engine image gitlab-ci-local lint test chaos compose-test bench bench-quick bench-image demo clean

setup: system venv engine image gitlab-ci-local

system:
	@bash scripts/system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> installing Python dependencies into $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

engine:
	@bash scripts/dockerd.sh

image:
	@bash scripts/busybox-image.sh busybox:local

# The GitLab example's test runs it (docs/ci/gitlab.md); installed into .state/node.
gitlab-ci-local: system
	@bash scripts/gitlab-ci-local.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Everything, the compose test included (~25 s; ~2 min on a new machine: debootstrap).
test: setup lint
	$(BIN)/python -m pytest

# Only the fault-injection tests (Redis crash, dockerd restart, load); `make test` runs them too.
chaos: setup
	$(BIN)/python -m pytest -m chaos tests/chaos

bench: setup bench-image
	@mkdir -p $(dir $(BENCH_REPORT))
	$(BIN)/python -m benchmarks --docker-host $(BENCH_DOCKER_HOST) --markdown $(BENCH_REPORT)

bench-quick: setup bench-image
	$(BIN)/python -m benchmarks --quick --docker-host $(BENCH_DOCKER_HOST)

# The benchmarked engine may be another than the default one: give it the image too.
bench-image:
	@DOCKER_HOST=$(BENCH_DOCKER_HOST) bash scripts/busybox-image.sh busybox:local

# Only docker-compose.yml brought up for real (builds the images locally).
compose-test: setup
	$(BIN)/python -m pytest -m compose -v

demo: setup
	@PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

clean:
	rm -rf $(VENV) .state .mypy_cache .ruff_cache .pytest_cache .wheels artifacts
