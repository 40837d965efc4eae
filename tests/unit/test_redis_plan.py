"""Which Redis `dockfleet up` uses: configured and answering, local to start, or an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfleet.up import UpError
from dockfleet.up.redis_plan import free_port, plan_redis
from dockfleet.up.state import StateDir


def test_nothing_configured_plans_a_private_redis_with_a_password(tmp_path: Path) -> None:
    state = StateDir(tmp_path).ensure()

    plan = plan_redis(None, state)

    assert plan.start and plan.password
    assert plan.url == f"redis://:{plan.password}@127.0.0.1:{plan.port}/0"
    # And the next up uses the same port and password (stable URLs, same data)
    again = plan_redis(None, state)
    assert (again.port, again.password) == (plan.port, plan.password)


def test_configured_loopback_url_with_nothing_listening_is_started_there(tmp_path: Path) -> None:
    port = free_port()

    plan = plan_redis(f"redis://:secret@127.0.0.1:{port}/3", StateDir(tmp_path).ensure())

    assert plan.start and plan.port == port and plan.password == "secret"
    assert plan.url.endswith("/3")


def test_configured_remote_url_that_does_not_answer_is_an_error_without_its_password(
    tmp_path: Path,
) -> None:
    # 127.0.0.2 is not the loopback name up would start a server for
    url = f"redis://:hunter2@127.0.0.2:{free_port()}/0"

    with pytest.raises(UpError) as caught:
        plan_redis(url, StateDir(tmp_path).ensure())

    message = str(caught.value)
    assert "127.0.0.2" in message and "hunter2" not in message
    assert "DOCKFLEET_REDIS_URL" in message


def test_configured_loopback_url_without_a_password_is_never_started_open(
    tmp_path: Path,
) -> None:
    # Given a loopback URL with nothing listening and no password in it
    url = f"redis://127.0.0.1:{free_port()}/0"

    # Then up refuses to start a Redis that anyone on the machine could use
    with pytest.raises(UpError, match="only with a password"):
        plan_redis(url, StateDir(tmp_path).ensure())


def test_purge_removes_what_up_made_and_nothing_else(tmp_path: Path) -> None:
    # Given DOCKFLEET_STATE_DIR pointing at a folder that holds a file of the user's too
    state = StateDir(tmp_path / "state").ensure()
    state.write_env("redis://:pw@127.0.0.1:1/0")
    (state.logs / "up.log").write_text("log")
    (state.root / "notes.txt").write_text("mine")

    state.purge()

    # Then up's files are gone, the user's stays, and so does the folder holding it
    assert sorted(p.name for p in state.root.iterdir()) == ["notes.txt"]
    # And a folder that held only up's files goes with them
    clean = StateDir(tmp_path / "clean").ensure()
    clean.write_env("redis://:pw@127.0.0.1:1/0")
    clean.purge()
    assert not clean.root.exists()
