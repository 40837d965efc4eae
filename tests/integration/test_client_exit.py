"""A Python client whose call timed out exits quietly: nothing "ignored" at interpreter exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support.services import REPO

SCRIPT = textwrap.dedent(
    """
    import sys
    from dockfleet import Settings
    from dockfleet.client.transport import Transport
    from dockfleet.errors import HostUnavailable

    transport = Transport(Settings(redis_url=sys.argv[1]))
    try:
        transport.call("dockfleet.system.ping", [], "dockfleet.host.nobody", timeout=1)
    except HostUnavailable as exc:
        print("timed out:", exc)
    """
)


def test_a_call_that_timed_out_leaves_nothing_for_the_interpreter_exit(redis_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, redis_url],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no worker answered within 1s" in done.stdout
    assert done.stderr == ""
