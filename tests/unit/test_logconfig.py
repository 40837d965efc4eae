"""Log formats: JSON lines carry the event fields; text lines show host and job."""

from __future__ import annotations

import io
import json
import logging

import pytest

from dockfleet.logconfig import JsonFormatter, TextFormatter, event


def capture(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logconfig.{id(formatter)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_json_line_carries_message_event_and_fields() -> None:
    logger, out = capture(JsonFormatter())

    event(logger, "job.finished", "job %s done", "j1", host="h1", job="j1", exit_code=0)

    record = json.loads(out.getvalue())
    assert record["message"] == "job j1 done"
    assert record["event"] == "job.finished"
    assert (record["host"], record["job"], record["exit_code"]) == ("h1", "j1", 0)
    assert record["level"] == "INFO" and record["logger"] == logger.name
    assert record["ts"].endswith("Z")


def test_json_leaves_out_none_fields_and_keeps_exceptions() -> None:
    logger, out = capture(JsonFormatter())
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed", extra={"host": "h1"})
    event(logger, "container.removed", "gone", host="h1", job=None)

    first, second = (json.loads(line) for line in out.getvalue().splitlines() if line[0] == "{")
    assert "RuntimeError: boom" in first["exc"]
    assert "job" not in second


def test_text_line_appends_the_identifying_fields() -> None:
    logger, out = capture(TextFormatter())

    event(logger, "host.down", "engine gone", level=logging.WARNING, host="h2")

    line = out.getvalue().strip()
    assert "WARNING" in line and "engine gone" in line
    assert line.endswith("[event=host.down host=h2]")


def test_a_field_may_not_shadow_a_record_attribute() -> None:
    logger, _ = capture(JsonFormatter())
    with pytest.raises(KeyError):
        event(logger, "x", "y", name="shadow")
