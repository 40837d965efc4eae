"""CI jobs through real workers: streams, exit codes, services, timeouts, OOM, caps, secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from dockfleet import (
    ContainerConfig,
    Fleet,
    HealthCheckConfig,
    JobSpec,
    ServiceSpec,
)
from dockfleet.queues import host_queue
from tests.conftest import TEST_IMAGE, Host, local_host
from tests.support.events import EventRecorder

DOCKFLEET = str(Path(sys.executable).with_name("dockfleet"))
MIB = 1024 * 1024


def job(cmd: str, **fields: object) -> JobSpec:
    container = {"image": TEST_IMAGE, "cmd": ["sh", "-c", cmd]}
    return JobSpec.model_validate({"container": container, **fields})


def leftovers(engine: docker.DockerClient, job_id: str) -> list[str]:
    """Containers and networks of a job still on the engine."""
    selector = {"label": f"dockfleet.job={job_id}"}
    found = [c.name for c in engine.containers.list(all=True, filters=selector)]
    return found + [n.name for n in engine.networks.list(filters=selector)]


def test_run_cli_prints_both_streams_and_exits_with_the_jobs_code(
    fleet: Fleet, host_a: Host, redis_url: str
) -> None:
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    result = subprocess.run(
        [DOCKFLEET, "run", "--host", host_a.name, TEST_IMAGE, "--"]
        + ["sh", "-c", "echo out; echo err >&2; exit 3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_run_cli_cancels_its_job_when_the_ci_runner_terminates_it(
    fleet: Fleet, host_a: Host, redis_url: str, local_engine: docker.DockerClient
) -> None:
    # Given a pipeline step attached to a long job
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}
    step = subprocess.Popen(
        [DOCKFLEET, "run", "--host", host_a.name, TEST_IMAGE, "--"]
        + ["sh", "-c", "echo started; sleep 300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert step.stdout is not None and step.stdout.readline() == "started\n"
    # When the CI runner cancels the step the way runners do: SIGTERM
    step.send_signal(signal.SIGTERM)
    _, err = step.communicate(timeout=60)
    # Then the fleet's job was canceled too, and nothing of it is left
    assert step.returncode == 130, err
    job_id = err.split("canceling job ")[1].split("...")[0]
    assert fleet.job(job_id).wait(30).status == "canceled"
    assert leftovers(local_engine, job_id) == []


def test_run_job_reports_exit_code_log_and_resources(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    handle = fleet.run_job(job("echo out; echo err >&2; exit 3", host=host_a.name))
    lines = [(ln.stream, ln.line) for ln in handle.logs(follow=True)]
    result = handle.wait(timeout=30)
    assert sorted(lines) == [("stderr", "err"), ("stdout", "out")]
    assert (result.status, result.exit_code, result.host) == ("failed", 3, host_a.name)
    assert result.log_lines == 2 and result.log_bytes == len("out\nerr\n")
    assert result.started_at and result.finished_at and result.duration >= 0
    assert result.adopted is False
    assert handle.result == result
    assert leftovers(local_engine, handle.id) == []


def test_a_service_that_becomes_healthy_late_is_reached_by_its_alias(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a web service that is healthy only after a second, and a job that calls it
    serve = (
        "mkdir -p /tmp/www && echo pong > /tmp/www/ping && sleep 1 && touch /tmp/ready"
        " && exec httpd -f -p 8080 -h /tmp/www"
    )
    service = ServiceSpec(
        alias="web",
        container=ContainerConfig(
            image=TEST_IMAGE,
            cmd=["sh", "-c", serve],
            health_check=HealthCheckConfig(test="test -f /tmp/ready", interval="0.2s", retries=50),
        ),
        readiness_timeout=20,
    )
    spec = job("wget -q -O- http://web:8080/ping", services=[service], host=host_a.name, timeout=30)

    # When it runs
    handle = fleet.run_job(spec)
    result = handle.wait(timeout=60)

    # Then the job got the service's answer by alias, and everything is gone after
    assert [ln.line for ln in handle.logs(follow=False)] == ["pong"]
    assert (result.status, result.exit_code) == ("succeeded", 0)
    assert leftovers(local_engine, handle.id) == []


def test_a_service_that_never_becomes_ready_fails_the_job_with_its_log(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    service = ServiceSpec(
        alias="db",
        container=ContainerConfig(
            image=TEST_IMAGE,
            cmd=["sh", "-c", "echo starting db; echo db is broken; sleep 300"],
            health_check=HealthCheckConfig(test="false", interval="0.2s", retries=1000),
        ),
        readiness_timeout=2,
    )
    began = time.monotonic()
    result = fleet.run_job(job("echo never", services=[service], host=host_a.name)).wait(60)
    assert result.status == "error"
    assert result.error is not None
    assert "service 'db' did not become ready" in result.error
    assert "db is broken" in result.error
    assert time.monotonic() - began < 20
    assert leftovers(local_engine, result.job_id) == []


def test_a_job_past_its_timeout_ends_timed_out_and_leaves_nothing(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    began = time.monotonic()
    spec = job("sleep 600", timeout=3, stop_grace=1, host=host_a.name)
    result = fleet.run_job(spec).wait(timeout=60)
    assert result.status == "timed_out"
    assert time.monotonic() - began < 15
    assert leftovers(local_engine, result.job_id) == []


def test_a_job_over_its_memory_limit_ends_oom_killed(fleet: Fleet, host_a: Host) -> None:
    grow = "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"
    spec = JobSpec(
        container=ContainerConfig(image=TEST_IMAGE, cmd=["sh", "-c", grow], memory_limit=32 * MIB),
        host=host_a.name,
    )
    result = fleet.run_job(spec).wait(timeout=60)
    assert (result.status, result.oom_killed) == ("oom_killed", True)
    assert result.peak_memory > 16 * MIB


def test_a_big_log_is_capped_with_the_truncated_flag_and_the_exit_code_kept(
    fleet: Fleet, host_a: Host
) -> None:
    spec = job("yes 0123456789abcdef | head -c 10485760; exit 5", host=host_a.name)
    handle = fleet.run_job(spec)
    result = handle.wait(timeout=120)
    assert (result.status, result.exit_code, result.log_truncated) == ("failed", 5, True)
    assert 4 * MIB - 64 <= result.log_bytes <= 4 * MIB
    lines = [ln.line for ln in handle.logs(follow=False)]
    assert lines[-1].startswith("dockfleet: log truncated at")
    assert set(lines[:-1]) == {"0123456789abcdef"}


def test_a_job_still_running_when_its_log_is_capped_is_waited_for_to_its_exit(
    fleet: Fleet, host_a: Host
) -> None:
    # The runner watches for the end of the log as the exit; a capped copy ends early.
    spec = job("yes x | head -c 8192; sleep 2; exit 7", log_limit=1024, host=host_a.name)
    result = fleet.run_job(spec).wait(timeout=60)
    assert (result.status, result.exit_code, result.log_truncated) == ("failed", 7, True)
    # Its 2-s sleep, less the moment the engine stamps a start after the process runs.
    assert result.duration >= 1.9


def test_a_secret_never_shows_in_log_result_or_task_arguments(
    fleet: Fleet, host_a: Host, redis_url: str
) -> None:
    secret = "hunter2-very-secret"
    spec = job("echo token=$TOKEN", secret_env={"TOKEN": secret}, host=host_a.name)
    handle = fleet.run_job(spec)
    result = handle.wait(timeout=30)
    assert [ln.line for ln in handle.logs(follow=False)] == ["token=***"]
    assert secret not in result.model_dump_json()
    assert secret not in str(fleet.transport.redis.hgetall(f"dockfleet:job:{handle.id}"))

    # And the arguments Flower shows (argsrepr of the message) are masked
    parked = job("true", secret_env={"TOKEN": secret}, host="nobody-serves-this")
    parked_handle = fleet.run_job(parked)
    [raw] = fleet.transport.redis.lrange(host_queue("nobody-serves-this"), 0, -1)
    message = json.loads(raw)
    assert secret not in message["headers"]["argsrepr"]
    assert "***" in message["headers"]["argsrepr"]
    parked_handle.cancel()
    fleet.transport.redis.delete(host_queue("nobody-serves-this"))


def test_canceling_a_running_job_stops_it_and_cleans_up(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    handle = fleet.run_job(job("echo started; sleep 600", stop_grace=1, host=host_a.name))
    first = next(iter(handle.logs(follow=True)))
    assert first.line == "started"
    began = time.monotonic()
    assert handle.cancel() == "running"
    result = handle.wait(timeout=30)
    assert result.status == "canceled"
    assert time.monotonic() - began < 10
    assert leftovers(local_engine, handle.id) == []


def test_canceling_a_queued_job_means_it_never_starts(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a job parked in a queue no worker serves yet
    handle = fleet.run_job(job("echo should-not-run", host="parked-host"))
    assert handle.state == "queued"
    # When it is canceled, it is reported canceled at once
    assert handle.cancel() == "queued"
    canceled = handle.wait(timeout=5)
    assert (canceled.status, canceled.host) == ("canceled", "parked-host")
    # And a worker that takes the message later does not start it
    redis = fleet.transport.redis
    [raw] = redis.lrange(host_queue("parked-host"), 0, -1)
    redis.delete(host_queue("parked-host"))
    redis.lpush(host_queue(host_a.name), raw)
    time.sleep(2)
    assert leftovers(local_engine, handle.id) == []
    assert handle.result is not None and handle.result.status == "canceled"


#: one worker with concurrency 2
narrow_host = local_host("tn", DOCKFLEET_WORKER_CONCURRENCY="2")


def test_thirty_jobs_at_once_to_a_worker_of_concurrency_two_all_finish_none_lost(
    fleet: Fleet, narrow_host: Host
) -> None:
    handles = [
        fleet.run_job(job(f"echo job-{i}; exit {i % 3}", host=narrow_host.name)) for i in range(30)
    ]
    results = [h.wait(timeout=180) for h in handles]
    assert [r.exit_code for r in results] == [i % 3 for i in range(30)]
    assert [[ln.line for ln in h.logs(follow=False)] for h in handles] == [
        [f"job-{i}"] for i in range(30)
    ]


@pytest.mark.parametrize("pull", ["never", "if-not-present"])
def test_a_missing_image_is_an_error_result_naming_it(
    fleet: Fleet, host_a: Host, pull: str
) -> None:
    spec = JobSpec.model_validate(
        {"container": {"image": "busybox", "tag": "not-here"}, "pull": pull, "host": host_a.name}
    )
    result = fleet.run_job(spec).wait(timeout=60)
    assert result.status == "error"
    assert result.error and "busybox:not-here" in result.error


def test_a_redelivered_run_message_neither_reruns_nor_duplicates_the_job(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given a running job
    spec = job("echo once; sleep 2; exit 4", host=host_a.name)
    handle = fleet.run_job(spec)
    assert next(iter(handle.logs(follow=True))).line == "once"

    # When the broker delivers its message again (late ack, visibility timeout)
    wire = fleet.transport.redis.hget(f"dockfleet:job:{handle.id}", "spec")
    assert wire is not None
    fleet.transport.send(
        "dockfleet.jobs.run", [json.loads(wire), handle.id], host_queue(host_a.name), timeout=None
    )

    # Then the job still runs once: one container, one copy of each line, one result
    result = handle.wait(timeout=30)
    assert (result.status, result.exit_code, result.adopted) == ("failed", 4, False)
    assert [ln.line for ln in handle.logs(follow=False)] == ["once"]
    # And a delivery after the end returns the stored result instead of running again
    again = fleet.transport.call(
        "dockfleet.jobs.run", [json.loads(wire), handle.id], host_queue(host_a.name)
    )
    assert again == result.model_dump(mode="json")
    assert leftovers(local_engine, handle.id) == []


def test_cli_run_detach_then_logs_and_cancel_by_job_id(
    fleet: Fleet, host_a: Host, redis_url: str
) -> None:
    env = {**os.environ, "DOCKFLEET_REDIS_URL": redis_url, "DOCKFLEET_HEARTBEAT_INTERVAL": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [DOCKFLEET, *args], capture_output=True, text=True, env=env, timeout=60
        )

    started = cli(
        "run", "-d", "--host", host_a.name, TEST_IMAGE, "--", "sh", "-c", "echo hi; sleep 600"
    )
    assert started.returncode == 0
    job_id = started.stdout.strip()
    wait_for_line = fleet.job(job_id)
    assert next(iter(wait_for_line.logs(follow=True))).line == "hi"
    logs = cli("logs", job_id)
    assert (logs.returncode, logs.stdout) == (0, "hi\n")
    canceled = cli("cancel", job_id)
    assert (canceled.returncode, canceled.stdout.strip()) == (0, f"{job_id}: canceled")
    assert fleet.job(job_id).wait(timeout=30).status == "canceled"
    followed = cli("logs", "-f", job_id)
    assert (followed.returncode, followed.stdout) == (0, "hi\n")
    unknown = cli("cancel", "no-such-job")
    assert unknown.returncode == 125 and "no such job" in unknown.stderr


def test_jobs_take_warm_networks_that_no_two_running_jobs_share(
    fleet: Fleet, host_a: Host, local_engine: docker.DockerClient
) -> None:
    # Given two jobs running at the same time, each with its private network
    first = fleet.run_job(job("echo a; sleep 2", host=host_a.name))
    second = fleet.run_job(job("echo b; sleep 2", host=host_a.name))
    for handle in (first, second):
        assert next(iter(handle.logs(follow=True))).line in ("a", "b")
    redis = fleet.transport.redis
    nets = [redis.hget(f"dockfleet:job:{h.id}", "network") for h in (first, second)]
    # Then they hold two different pooled networks
    assert all(n and n.startswith("dfp-") for n in nets) and nets[0] != nets[1]
    first.wait(timeout=30)
    second.wait(timeout=30)

    # When a third job runs after them, with an event recorder on the engine
    with EventRecorder(local_engine, {"type": "network"}) as recorder:
        third = fleet.run_job(job("echo c", host=host_a.name))
        assert third.wait(timeout=30).status == "succeeded"
    # Then it reused a network given back clean: no network was created or removed
    assert redis.hget(f"dockfleet:job:{third.id}", "network") in nets
    assert [e for e in recorder.events if e.get("Action") in ("create", "destroy")] == []
    assert leftovers(local_engine, third.id) == []
