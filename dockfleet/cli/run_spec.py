"""How ``dockfleet run`` makes one `JobSpec` of a job file and its flags: the flags win.

A flag given on the command line replaces the file's value; a repeatable one (``-e``,
``--secret-env``, ``-l``, ``-v``, ``-p``, ``--service``, ``--cache``, ``--cap-add``, ``--tmpfs``,
``--artifact``)
adds to the file's entries, its key replacing the file's same key. Which flags were
given is click's record of each parameter's source, never a comparison with defaults.
"""

from __future__ import annotations

import os
from typing import Any

import click
from click.core import ParameterSource

from dockfleet.cli.spec_options import container_fields
from dockfleet.errors import InvalidSpec
from dockfleet.job_file import load_job_file, overlay
from dockfleet.models import JobSpec
from dockfleet.validation import parse

#: `run`'s own flags -> the JobSpec field each sets
JOB_FLAGS = {
    "host": "host",
    "timeout": "timeout",
    "pull": "pull",
    "keep": "keep_on_failure",
    "log_limit": "log_limit",
    "artifacts_when": "artifacts_when",
}
#: the dump that keeps secrets, to lay flags over a loaded file (in memory only)
REVEAL = {"reveal_secrets": True}


def job_spec(ctx: click.Context) -> JobSpec:
    """The job that `run`'s parameters ask for: a job file's (``-f``) with the flags over it."""
    params = ctx.params
    given = {name for name in params if _given(ctx, name)}
    image, job_file = params.get("image"), params.get("job_file")
    if image is None and not job_file:
        raise click.UsageError("give an IMAGE, or a job file with -f", ctx)
    base = {}
    if job_file:
        base = load_job_file(job_file, os.environ).model_dump(mode="json", context=REVEAL)
    # container_fields takes the container options among the flags and ignores the rest.
    flags = {k: params[k] for k in given - {"image", "command"}}
    container = container_fields(image, params.get("command") or (), **flags)
    if image is not None:
        container["tag"] = None  # IMAGE[:TAG] names the whole reference: not the file's tag
    top: dict[str, Any] = {
        field: params[flag] for flag, field in JOB_FLAGS.items() if flag in given
    }
    if "workspace" in given:  # over a job file's workspace: its target stays
        top["workspace"] = {"source": params["workspace"]}
    if "caches" in given:  # KEY:PATH items; JobSpec reads them
        top["caches"] = list(params["caches"])
    if "artifacts" in given:  # added to a job file's
        top["artifacts"] = list(params["artifacts"])
    if "no_job_network" in given:
        top["network"] = not params["no_job_network"]
    if "services" in given:
        top["services"] = [_service(text) for text in params["services"]]
    # At the job's level, where they win over the file's container and job secrets alike.
    if "secret_env" in container:
        top["secret_env"] = container.pop("secret_env")
    top["container"] = container
    return parse(JobSpec, overlay(base, top))


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source not in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    )


def _service(text: str) -> dict[str, Any]:
    reference, _, alias = text.partition("=")
    if not reference:
        raise InvalidSpec(f"--service: {text!r} is not IMAGE[:TAG][=ALIAS]")
    name = reference.rsplit("/", 1)[-1].partition(":")[0].partition("@")[0]
    return {"alias": alias or name, "container": {"image": reference}}
