"""`DockerTask`: the options every dockfleet task shares, in one base class.

Late ack (a lost worker's message is redelivered), errors translated into the
dockfleet tree, transient ones retried with jittered exponential backoff,
permanent ones failed at once with their own type for the client to rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from celery import Task
from celery.exceptions import Retry
from pydantic import BaseModel, ValidationError

from dockfleet.errors import InvalidSpec, PermanentError
from dockfleet.validation import describe
from worker.engine.errors import translate
from worker.retry import backoff
from worker.runtime import Runtime, runtime

M = TypeVar("M", bound=BaseModel)


class DockerTask(Task):  # type: ignore[type-arg]
    acks_late = True
    reject_on_worker_lost = True
    max_retries = 3
    #: no task runs unbounded; a job task raises these for its own timeouts
    soft_time_limit = 3600
    time_limit = 3660
    typing = False  # arguments are validated by pydantic, not by signature
    #: expected outcomes (no such container, policy refusal...): logged in one line,
    #: without the traceback Celery prints for unexpected errors
    throws = (PermanentError,)

    @property
    def rt(self) -> Runtime:
        return runtime()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Retry:
            raise
        except ValidationError as exc:
            raise InvalidSpec(describe(exc)) from None
        except Exception as exc:
            error = translate(exc, runtime().host)
            if error is None:
                raise
            if error.transient and self.request.retries < self.max_retries:
                raise self.retry(exc=error, countdown=backoff(self.request.retries)) from None
            if error is exc:
                raise
            raise error from exc


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form of a result model."""
    return model.model_dump(mode="json")


def dump_all(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]
