"""Security options (``--security-opt``) read as the engine reads them, judged by an allow-list.

The engine (moby's ``parseSecurityOpt``) takes ``key=value``, else the legacy
``key:value`` (split at the first ``=`` when there is one, else at the first ``:``),
plus two bare words: ``no-new-privileges`` (true) and ``disable`` (``label=disable``).
``no-new-privileges`` takes a Go ``strconv.ParseBool`` value, and when it is given
more than once the last one wins. `normalise` turns every spelling of one option
into one text, so that the allow-list is judged on what the engine will do.

Only ``no-new-privileges=true`` is allowed by default, since it is the one option
that can only tighten: ``seccomp=`` replaces the default profile (an inline profile
may allow every syscall), ``apparmor=`` names a profile that may be looser than
``docker-default``, and ``label=`` switches SELinux types or confinement off
(``type:spc_t``, ``disable``). A policy permits more by listing exact options.
"""

from __future__ import annotations

NO_NEW_PRIVILEGES = "no-new-privileges"
#: what Go's strconv.ParseBool reads as true / false; anything else the engine refuses
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
#: the one option safe for anyone: it can only take privileges away
ALWAYS_ALLOWED = frozenset({f"{NO_NEW_PRIVILEGES}=true"})


class UnreadableOption(ValueError):
    """An option the engine does not read as key=value (it would refuse the create)."""


def normalise(option: str) -> str:
    """`option` in one spelling, ``key=value``, as the engine reads it.

    Raises:
        UnreadableOption: the engine cannot read it (no separator, or a bad boolean).
    """
    if option == NO_NEW_PRIVILEGES:
        return f"{NO_NEW_PRIVILEGES}=true"
    if option == "disable":
        return "label=disable"
    separator = "=" if "=" in option else ":" if ":" in option else None
    if separator is None:
        raise UnreadableOption(f"{option!r} is not key=value")
    key, _, value = option.partition(separator)
    if key == NO_NEW_PRIVILEGES:
        if value in GO_TRUE:
            value = "true"
        elif value in GO_FALSE:
            value = "false"
        else:
            raise UnreadableOption(f"{option!r}: {value!r} is not a boolean the engine reads")
    return f"{key}={value}"


def disables_no_new_privileges(option: str) -> bool:
    """Whether `option` turns no-new-privileges off (the fleet never lets it)."""
    try:
        return normalise(option) == f"{NO_NEW_PRIVILEGES}=false"
    except UnreadableOption:
        return False


def normalise_all(options: list[str]) -> list[str]:
    """Each of `options` normalised (for a policy's list; raises on an unreadable one)."""
    return [normalise(option) for option in options]
