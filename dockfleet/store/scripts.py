"""Lua scripts of the store: one ``.lua`` file each (in ``lua/``), run by their SHA.

A script is registered once per Redis client (``register_script``): each call
sends ``EVALSHA`` with the script's hash, and the text only when Redis does
not know it yet (after a restart, or on a fresh server). Keeping the text in
its own file keeps it readable, and out of the Python that calls it.
"""

from __future__ import annotations

import weakref
from importlib.resources import files
from typing import Any

import redis
from redis.commands.core import Script


class LuaScript:
    """One script of ``lua/``; call it with a client (or a pipeline), keys and args.

    `prelude` names a file (or files) of helpers placed before the script's own text, so
    that scripts sharing a rule (a Lua function) spell it once.
    """

    def __init__(self, name: str, prelude: str | tuple[str, ...] = ()) -> None:
        self.name = name
        preludes = (prelude,) if isinstance(prelude, str) else prelude
        self.text = "".join(_read(part) for part in (*preludes, name))
        self._registered: weakref.WeakKeyDictionary[redis.Redis, Script] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, client: redis.Redis, keys: list[str], args: list[Any]) -> Any:
        script = self._registered.get(client)
        if script is None:
            script = self._registered[client] = client.register_script(self.text)
        return script(keys=keys, args=args, client=client)


def _read(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text()
