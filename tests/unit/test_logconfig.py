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

    event(logger, "job.finished", "job {job} done", host="h1", job="j1", exit_code=0)

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


def test_each_value_is_given_once_and_the_template_formats_it() -> None:
    # Given a template over the fields, with a format spec, a None and a text-only value
    logger, out = capture(JsonFormatter())

    # When the event is logged
    event(
        logger,
        "container.removed",
        "container {container:.12} {_verb} in {duration:.2f}s (exit {exit_code})",
        _verb="removed",
        container="0123456789abcdef",
        duration=0.4567,
        exit_code=None,
    )

    # Then the message shows every value, None too, and the fields all but None and _text ones
    record = json.loads(out.getvalue())
    assert record["message"] == "container 0123456789ab removed in 0.46s (exit None)"
    assert record["container"] == "0123456789abcdef" and record["duration"] == 0.4567
    assert "exit_code" not in record and "_verb" not in record


def test_the_template_is_not_formatted_below_the_loggers_level() -> None:
    # Given a logger that writes warnings only
    logger, out = capture(TextFormatter())
    logger.setLevel(logging.WARNING)

    # When an info event's template names a field it is not given, nothing is formatted
    event(logger, "job.started", "job {missing} started", host="h1")

    # Then nothing is written and nothing raised
    assert out.getvalue() == ""
