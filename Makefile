# dockfleet: `make demo` runs a real job through a local fleet; `make test` runs the tests.
# Both install what is missing on a Debian/Ubuntu machine (as root) and start dockerd.

VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed

.PHONY: setup system venv engine image lint test compose-test demo clean

setup: system venv engine image

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

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Everything, the compose test included (~25 s; ~2 min on a new machine: debootstrap).
test: setup lint
	$(BIN)/python -m pytest

# Only docker-compose.yml brought up for real (builds the images locally).
compose-test: setup
	$(BIN)/python -m pytest -m compose -v

demo: setup
	@PATH="$(abspath $(BIN)):$$PATH" bash scripts/demo.sh

clean:
	rm -rf $(VENV) .state .mypy_cache .ruff_cache .pytest_cache .wheels artifacts
