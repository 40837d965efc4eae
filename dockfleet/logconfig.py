"""Logging of workers and beat: text lines for people, JSON lines when ``log_format=json``.

Every state change of the fleet is logged through `event`, with a stable
``event`` name and the fields that identify it (``host``, ``job``,
``container``...), so that a log pipeline can follow a job across hosts. Each
value is given once, and the message for people is a template over the fields::

    event(log, "job.finished", "job {job} finished on host {host}: {status} in {duration:.2f}s",
          host="builder-1", job="3f2a...", status="succeeded", duration=0.41)

    {"ts": "2026-11-29T15:31:02.114Z", "level": "INFO", "logger": "worker.jobs.runner",
     "message": "job 3f2a... finished on host builder-1: succeeded in 0.41s",
     "event": "job.finished", "host": "builder-1", "job": "3f2a...", "status": "succeeded",
     "duration": 0.41}

The events: ``container.created``, ``container.removed``, ``job.started``,
``job.adopted``, ``job.finished``, ``cleanup.finished``, ``reconcile.finished``,
``host.down`` and ``host.up``. (Celery's own "worker: Warm shutdown" notice is
written straight to the terminal from its signal handler, outside logging.)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

#: attributes every LogRecord has; anything else on a record came in through `extra`
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
#: fields shown after the message in text logs, in this order
_TEXT_FIELDS = ("event", "host", "job", "container")


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the record carries beyond the standard attributes (the `extra` of the call)."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and k[0] != "_"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and every extra field."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        data: dict[str, Any] = {
            "ts": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.processName,
        }
        data.update(extra_fields(record))
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Celery's usual line, with the event's identifying fields appended."""

    def __init__(self) -> None:
        super().__init__("[%(asctime)s: %(levelname)s/%(processName)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        shown = " ".join(f"{k}={fields[k]}" for k in _TEXT_FIELDS if fields.get(k) is not None)
        return f"{line} [{shown}]" if shown else line


def configure(log_format: str, level: int | str | None = None) -> None:
    """Send every log record of this process to stderr in `log_format` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or logging.INFO)
    logging.captureWarnings(True)  # warnings too: in JSON mode every line must be JSON


def event(
    logger: logging.Logger,
    name: str,
    template: str,
    /,
    *,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    """Log a state change: `template` for people, `name` and `fields` for machines.

    Args:
        logger: the module's logger.
        name: the stable event name (``job.finished``...), the ``event`` field.
        template: the message, a `str.format` template over `fields` (``{job}``,
            ``{duration:.2f}``, ``{container:.12}`` for a short id); formatted only
            when `logger` is enabled for `level`.
        level: the log level.
        fields: the event's values, each given once. They should name the ``host``
            and, where there is one, the ``job``. A None value is left out of the
            fields (the text shows it as ``None``); a name starting with ``_`` is for
            the text only (a wording such as "would remove"). A field may not shadow
            a LogRecord attribute (``name``, ``msg``, ``args``...): logging refuses those.
    """
    if not logger.isEnabledFor(level):
        return  # the template is not formatted for a line nobody writes
    extra: dict[str, Any] = {"event": name}
    extra.update((k, v) for k, v in fields.items() if v is not None and not k.startswith("_"))
    # stacklevel 2: the record names the caller's line, not this one
    logger.log(level, template.format_map(fields), extra=extra, stacklevel=2)
