"""`DockerTask`: the options every dockfleet task shares, in one base class.

Late ack (a lost worker's message is redelivered), errors translated into the
dockfleet tree, transient ones retried with jittered exponential backoff,
permanent ones failed at once with their own type for the client to rebuild.

A task's arguments are the wire form of a spec, secret values in the clear;
what Flower and ``celery inspect`` show of them is only the message's
``argsrepr``, which the producer masks. A retry sends the message again with
that same ``argsrepr`` (Celery's own would be the clear arguments), and a
worker answers ``inspect active|reserved|scheduled`` with it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from celery import Task
from celery.app.task import Context
from celery.canvas import Signature
from celery.exceptions import Retry
from celery.worker.request import Request
from pydantic import BaseModel, ValidationError

from dockfleet.errors import InvalidSpec, PermanentError
from dockfleet.validation import describe
from worker.engine.errors import translate
from worker.ops.retry import backoff
from worker.runtime import Runtime, runtime

M = TypeVar("M", bound=BaseModel)
#: what a retry shows for arguments whose masked form it does not have
HIDDEN = "(hidden)"


class SafeRequest(Request):
    """A request that answers ``inspect`` with its ``argsrepr``, never its arguments
    (Celery gives the raw arguments to ``active`` unless asked ``safe``, and always to
    ``reserved``, ``scheduled`` and ``query_task``: Flower's worker page shows them)."""

    def info(self, safe: bool = False) -> Any:
        return super().info(safe=True)


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
    Request = "tasks.base:SafeRequest"

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

    def signature_from_request(
        self,
        request: Context | None = None,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        queue: str | None = None,
        **extra_options: Any,
    ) -> Signature[Any]:
        """The message a retry sends: Celery's, shown as the received one was shown.

        Every retry (ours on a transient error, or a task's own ``self.retry()``)
        builds its message here.
        """
        request = self.request if request is None else request
        extra_options.setdefault("argsrepr", _shown(request, "argsrepr", args, request.args))
        extra_options.setdefault(
            "kwargsrepr", _shown(request, "kwargsrepr", kwargs, request.kwargs)
        )
        return super().signature_from_request(request, args, kwargs, queue, **extra_options)


def _shown(request: Context, field: str, given: Any, received: Any) -> str:
    """The received message's `field` (the producer's masked repr) while the retry sends
    the same arguments; `HIDDEN` for others, or for a message that had none."""
    if given is not None and _plain(given) != _plain(received):
        return HIDDEN
    shown = getattr(request, field, None)
    return shown if isinstance(shown, str) else HIDDEN


def _plain(arguments: Any) -> Any:
    """Arguments as comparable data (Celery passes args as a list or a tuple)."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    return list(arguments or ())


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON form of a result model."""
    return model.model_dump(mode="json")


def dump_all(models: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in models]
