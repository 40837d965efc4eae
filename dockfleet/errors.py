"""The one error tree of dockfleet, shared by the client and the workers.

    FleetError
    ├── TransientError            retried by tasks with jittered backoff
    │   ├── HostUnavailable       a Docker host's engine or worker cannot be reached
    │   ├── BrokerUnavailable     Redis (broker and result store) cannot be reached
    │   │   ├── BrokerTimeout     Redis took the connection but did not answer in time
    │   │   └── BrokerAuthError   Redis refused the password (or wants one): not transient
    │   └── EngineBusy            the engine answered 5xx / timed out on a call
    │       └── SlotsBusy         another create held the host's slot lock too long
    └── PermanentError            retrying cannot help
        ├── InvalidSpec           a spec failed validation (names the field)
        ├── ConfigError           a setting's value cannot be used (names the variable)
        ├── PolicyViolation       a spec breaks the security policy (names the rule)
        ├── ContainerLimitReached the host holds max_containers fleet containers
        ├── NotFound
        │   ├── ContainerNotFound
        │   ├── ImageNotFound
        │   └── NetworkNotFound
        ├── Conflict              a name is taken, an object is in use
        │   ├── NetworkInUse      a network still has containers (names them)
        │   └── CacheInUse        a running container mounts a job cache (names them)
        ├── RegistryAuthError     a registry refused the credentials (or asked for some)
        ├── BuildFailed           an image build failed; carries the tail of its log
        ├── AmbiguousReference    a name or id prefix matches on several hosts
        ├── ServiceNotReady       a job's service never became ready
        ├── OperationTimeout      a wait ran out of time
        ├── JobTimeout
        ├── JobCanceled
        ├── EngineError           any other refusal of the engine
        └── TransferFailed        a streamed transfer (a workspace) was aborted or lost

Celery stores a task's exception as (module, class name, args) and rebuilds it
on the client with ``cls(*args)``. So every constructor here takes exactly the
values it hands to `FleetError._keep` — in the same order — and the message
is computed in ``__str__``. A client thus gets the very type the worker raised.
"""

from __future__ import annotations


class FleetError(Exception):
    """Root of every error dockfleet raises on purpose."""

    #: whether a task should retry this error (with backoff) rather than fail
    transient = False

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def _keep(self, **fields: object) -> None:
        """Keep the constructor's values as attributes and as the exception's ``args``, in
        the constructor's order: the args are what Celery rebuilds the error from."""
        Exception.__init__(self, *fields.values())
        self.__dict__.update(fields)


def _on_host(host: str, preposition: str = "on") -> str:
    """The " on host 'x'" of a message; nothing when no host is known."""
    return f" {preposition} host {host!r}" if host else ""


class TransientError(FleetError):
    """A failure that may pass by itself: worth retrying."""

    transient = True


class PermanentError(FleetError):
    """A failure that retrying cannot mend."""


#: the `HostUnavailable.host` of "no host at all": the fleet has no live Docker host
ANY_HOST = "*"


class HostUnavailable(TransientError):
    """The Docker engine of a host cannot be reached (`ANY_HOST`: no host of the fleet is up)."""

    host: str
    reason: str

    def __init__(self, host: str, reason: str = "") -> None:
        self._keep(host=host, reason=reason)
        detail = f": {reason}" if reason else ""
        self.message = f"Docker host {host!r} is unavailable{detail}"
        if host == ANY_HOST:
            self.message = reason or "no live Docker host in the fleet"


class BrokerUnavailable(TransientError):
    """Redis, the broker and result store, cannot be reached; `hint` says what to do."""

    url: str
    reason: str
    hint: str

    def __init__(self, url: str, reason: str = "", hint: str = "") -> None:
        self._keep(url=url, reason=reason, hint=hint)
        self.message = self._problem() + (f": {hint}" if hint else "")

    def _problem(self) -> str:
        return f"cannot reach the fleet's Redis at {self.url}" + (
            f" ({self.reason})" if self.reason else ""
        )


class BrokerTimeout(BrokerUnavailable):
    """Redis took the connection and did not answer in time (hung, or not Redis)."""

    def _problem(self) -> str:
        return f"Redis at {self.url} {self.reason}"  # "did not answer within 5s"


class BrokerAuthError(BrokerUnavailable):
    """Redis refused the password given, or wants one and got none: retrying cannot help."""

    transient = False

    def _problem(self) -> str:
        return f"Redis at {self.url} {self.reason}"  # "refused the password"


class EngineBusy(TransientError):
    """The engine failed a call in a way that may succeed later (5xx, read timeout)."""


class SlotsBusy(EngineBusy):
    """Creates on the host waited too long for the lock that counts its containers.

    A job treats this as a full host (it waits for capacity); a plain create retries.
    """

    host: str
    waited: float

    def __init__(self, host: str, waited: float) -> None:
        self._keep(host=host, waited=waited)
        self.message = f"host {host!r}: waited {waited:g}s for the container-slot lock"


class InvalidSpec(PermanentError):
    """A spec or argument failed validation; the message names the field."""


class ConfigError(PermanentError):
    """A setting's value cannot be used; the message names the variable (or file) it came
    from and what it expects, never the value (it may be a secret)."""


class PolicyViolation(PermanentError):
    """A spec breaks the security policy; names the rule and the offending value."""

    rule: str
    value: str
    hint: str

    def __init__(self, rule: str, value: str, hint: str = "") -> None:
        self._keep(rule=rule, value=value, hint=hint)
        self.message = f"policy violation [{rule}]: {value}" + (f" ({hint})" if hint else "")


class ContainerLimitReached(PermanentError):
    """The host already holds ``max_containers`` fleet containers."""

    host: str
    limit: int

    def __init__(self, host: str, limit: int) -> None:
        self._keep(host=host, limit=limit)
        self.message = (
            f"container limit reached on host {host!r}: it already holds {limit} fleet "
            f"containers (max_containers={limit}); remove some or raise DOCKFLEET_MAX_CONTAINERS"
        )


class NotFound(PermanentError):
    """An object does not exist on the host asked."""

    kind = "object"
    ref: str
    host: str

    def __init__(self, ref: str, host: str = "") -> None:
        self._keep(ref=ref, host=host)
        self.message = f"no such {self.kind}: {ref}{_on_host(host)}"


class ContainerNotFound(NotFound):
    """No container with that id or name."""

    kind = "container"


class ImageNotFound(NotFound):
    """No image with that reference, locally or in its registry."""

    kind = "image"


class NetworkNotFound(NotFound):
    """No network with that id or name."""

    kind = "network"


class Conflict(PermanentError):
    """The request conflicts with the state of the host (name taken, object in use)."""


class NetworkInUse(Conflict):
    """A network cannot be removed while containers are attached to it."""

    network: str
    containers: list[str]
    host: str

    def __init__(self, network: str, containers: list[str], host: str = "") -> None:
        self._keep(network=network, containers=containers, host=host)
        self.message = (
            f"network {network}{_on_host(host)} is in use by {len(containers)} container(s): "
            f"{', '.join(sorted(containers))}; disconnect or remove them first"
        )


class CacheInUse(Conflict):
    """A job cache is not removed while a running container mounts it (rule cache-in-use)."""

    key: str
    containers: list[str]
    host: str

    def __init__(self, key: str, containers: list[str], host: str = "") -> None:
        self._keep(key=key, containers=containers, host=host)
        self.message = (
            f"cache {key!r}{_on_host(host)} is in use [cache-in-use: never removed while a "
            f"running container mounts it] by {', '.join(sorted(containers))}; "
            "remove it once they have ended"
        )


class RegistryAuthError(PermanentError):
    """A registry refused the credentials given (or needs some and got none).

    The message names the registry and the engine's reason, never the secret.
    """

    registry: str
    host: str
    reason: str

    def __init__(self, registry: str, host: str = "", reason: str = "") -> None:
        self._keep(registry=registry, host=host, reason=reason)
        self.message = (
            f"registry {registry or '?'} refused authentication{_on_host(host, 'for')}"
            + (f": {reason}" if reason else "")
            + "; check the username and password, or DOCKFLEET_REGISTRY_AUTH"
        )


class BuildFailed(PermanentError):
    """An image build failed; `log_tail` holds its last log lines."""

    reason: str
    log_tail: list[str]
    host: str

    def __init__(self, reason: str, log_tail: list[str], host: str = "") -> None:
        self._keep(reason=reason, log_tail=log_tail, host=host)
        self.message = f"build failed{_on_host(host)}: {reason}"


class AmbiguousReference(PermanentError):
    """A container name or id prefix matches on several hosts."""

    ref: str
    hosts: list[str]

    def __init__(self, ref: str, hosts: list[str]) -> None:
        self._keep(ref=ref, hosts=hosts)
        self.message = (
            f"{ref!r} matches containers on several hosts ({', '.join(sorted(hosts))}); "
            "name the host with --host or use the full id"
        )


class ServiceNotReady(PermanentError):
    """A job's service did not become ready in time; carries the service's log tail."""

    alias: str
    reason: str
    log_tail: str

    def __init__(self, alias: str, reason: str, log_tail: str = "") -> None:
        self._keep(alias=alias, reason=reason, log_tail=log_tail)
        tail = f"\n--- last lines of {alias} ---\n{log_tail}" if log_tail else ""
        self.message = f"service {alias!r} did not become ready: {reason}{tail}"


class OperationTimeout(PermanentError):
    """An operation did not finish within its timeout."""


class JobTimeout(PermanentError):
    """A job ran past its timeout and was stopped."""


class JobCanceled(PermanentError):
    """A job was canceled before it finished."""


class EngineError(PermanentError):
    """The engine refused a request for a reason not covered above."""


class TransferFailed(PermanentError):
    """A streamed transfer (a job's workspace) was aborted, lost or taken over; says why."""

    def __init__(self, transfer: str, reason: str) -> None:
        super(FleetError, self).__init__(transfer, reason)
        self.transfer = transfer
        self.reason = reason
        self.message = f"transfer {transfer} failed: {reason}"
