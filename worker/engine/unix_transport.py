"""docker-py over the engine's unix socket at a fraction of the CPU per call.

py-spy put ~60% of the worker's CPU per trivial job in docker-py's HTTP stack:
each engine call went through requests (session merge, request preparation,
hooks), urllib3 (pool, retries, response wrapping) and http.client, about
1.8 ms of CPU a call on a 2-core VM, for a create, a start, an inspect, a
list or a remove that the engine answers in one small JSON body. Two fixes,
both below docker-py, so that its request building, its JSON and its errors
stay exactly as they are:

- `LightAPIClient` sends every call that streams nothing (no ``stream=True``,
  a body that is bytes or text) as one HTTP/1.1 exchange (`http11`) on a
  kept-alive unix socket (`worker.engine.unix_sockets`) and hands docker-py a
  real `requests.Response`:
  ~0.1 ms of CPU a call on the transport instead of ~1.5 ms.
  The log follow and the event stream (`get_stream`) go the same way, on a
  socket of their own, their body read as it comes (`StreamBody`).
  Other streams (pulls, builds, attach, archives) keep requests.
  The container and image inspects, the most frequent calls (the state-cache
  follower's, the job runner's), skip docker-py's request plumbing too
  (`LightAPIClient.get_json`): the same URL and headers, formatted directly,
  and docker-py's errors; a quarter less CPU an inspect.
- `SharedUnixPoolAdapter`: for those streams, one urllib3 pool per socket.
  docker-py's `UnixHTTPAdapter` keys its pools by the whole request URL, so
  every call of every container opened a pool and a socket of its own.

Errors are raised as requests raises them (`ConnectionError`, `ReadTimeout`),
so `worker.engine.errors` translates both paths alike.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import quote

import docker
import requests
from docker.transport import UnixHTTPAdapter
from docker.utils.decorators import check_resource
from requests.models import RequestEncodingMixin

from worker.engine.unix_sockets import StreamBody, UnixSocketCalls, whole_response

_ONE_POOL = "http+docker://localhost"


class SharedUnixPoolAdapter(UnixHTTPAdapter):
    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        return super().get_connection(_ONE_POOL, proxies)


def get_stream(
    api: Any, url: str, params: dict[str, Any], *, follow: bool
) -> requests.Response | None:
    """``GET url`` on the light path, its body read as it comes from the response's `raw`
    (a `StreamBody`), its status checked (docker-py's errors); None when `api` has no light
    path (a TCP or TLS engine): the caller streams through docker-py as before.

    `follow`: no read timeout once the head is in (a followed log or the event stream
    waits as long as the engine is silent).
    """
    if not (isinstance(api, LightAPIClient) and api.light):
        return None
    client: Any = api  # docker-py's private helpers are untyped
    response: requests.Response = client._get(url, params=params, stream=True, light_stream=True)
    client._raise_for_status(response)
    if follow:
        stream_body(response).settimeout(None)
    return response


def stream_body(response: requests.Response) -> StreamBody:
    """The body of a `get_stream` response."""
    body = response.raw
    assert isinstance(body, StreamBody)
    return body


def query_string(params: Any) -> str:
    """`params` encoded by requests' own encoder (None values left out, a list repeated).

    Most calls repeat a few queries (a remove's flags, the fleet's listing filter), and
    requests' encoder quotes every key and value anew: the encodings are remembered.
    """
    if not params:
        return ""
    if isinstance(params, dict):
        try:
            return _encoded(tuple((k, _frozen(v)) for k, v in params.items()))
        except TypeError:  # a value that cannot be a cache key: encoded as it is
            pass
    return _encode(params)


@functools.lru_cache(maxsize=512)
def _encoded(items: tuple[tuple[Any, Any], ...]) -> str:
    # requests repeats a tuple's items as it repeats a list's
    return _encode(list(items))


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _encode(params: Any) -> str:
    encoded = RequestEncodingMixin._encode_params(params)  # type: ignore[attr-defined]
    return encoded.decode() if isinstance(encoded, bytes) else str(encoded)


class LightAPIClient(docker.APIClient):
    """docker-py's `APIClient`, whose calls that stream nothing go over `UnixSocketCalls`
    when the engine is a unix socket (any other transport: requests, as before)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._calls: UnixSocketCalls | None = None
        old = getattr(self, "_custom_adapter", None)
        if not isinstance(old, UnixHTTPAdapter):
            return
        adapter = SharedUnixPoolAdapter(
            "http+unix://" + old.socket_path, old.timeout, max_pool_size=old.max_pool_size
        )
        old.close()
        # docker-py falls back to `_custom_adapter` for URLs that match no mount.
        self._custom_adapter = adapter
        self.mount("http+docker://", adapter)
        self._calls = UnixSocketCalls(old.socket_path)

    def request(  # type: ignore[override]  # requests' signature, keywords as docker-py passes
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        timeout: Any = None,
        stream: bool | None = None,
        light_stream: bool = False,
        **rest: Any,
    ) -> requests.Response:
        """`light_stream`: a stream this client's light path may carry (`get_stream`)."""
        light = (
            self._calls is not None
            and (not stream or (light_stream and data is None))
            and isinstance(data, bytes | str | None)
        )
        if not light or any(rest.get(k) is not None for k in ("files", "json", "auth", "cookies")):
            return super().request(
                method, url, params=params, data=data, headers=headers, timeout=timeout,
                stream=stream, **rest,
            )  # fmt: skip
        assert self._calls is not None
        target = url.removeprefix(self.base_url)
        query = query_string(params)
        if query:
            target += ("&" if "?" in target else "?") + query
        body = data.encode() if isinstance(data, str) else data
        sent = {"User-Agent": str(self.headers.get("User-Agent", "")), **(headers or {})}
        if isinstance(timeout, tuple):  # (connect, read): the socket takes one
            timeout = max(t for t in timeout if t is not None) if any(timeout) else None
        if stream:
            return self._calls.open_stream(method, url, target, sent, timeout)
        return whole_response(url, self._calls.call(method, url, target, body, sent, timeout))

    # The inspects: every fleet container's create and start (the state-cache follower),
    # every job's image and exit. Sent as `get_json` sends them, not through docker-py's
    # request plumbing, a quarter of their CPU; docker-py's own method where no light path.

    @check_resource("container")
    def inspect_container(self, container: Any) -> Any:
        if self._calls is None:
            return super().inspect_container(container)
        return self.get_json("/containers/{0}/json", container)

    @check_resource("image")
    def inspect_image(self, image: Any) -> Any:
        if self._calls is None:
            return super().inspect_image(image)  # type: ignore[no-untyped-call]
        return self.get_json("/images/{0}/json", image)

    def get_json(self, path: str, *args: str) -> Any:
        """``GET`` of the API's `path` (its ``{0}``... the `args`, quoted) on the light path,
        as docker-py sends it (versioned, its User-Agent, its timeout); the answer's JSON, or
        the error docker-py raises for it."""
        assert self._calls is not None
        api: Any = self  # docker-py's private helpers are untyped
        for arg in args:
            if not isinstance(arg, str):  # as docker-py's `_url` refuses it
                raise ValueError(f"Expected a string but found {arg} ({type(arg)}) instead")
        target = f"/v{api._version}{path.format(*(quote(a, safe='/:') for a in args))}"
        url = self.base_url + target
        sent = {"User-Agent": str(self.headers.get("User-Agent", ""))}
        answer = self._calls.call("GET", url, target, None, sent, self.timeout)
        if answer.head.status >= 400:  # docker-py's errors, from the answer requests would give
            api._raise_for_status(whole_response(url, answer))
        return json.loads(answer.body)

    @property
    def light(self) -> bool:
        """The engine is a unix socket: calls go over the light path."""
        return self._calls is not None

    def close(self) -> None:
        if self._calls is not None:
            self._calls.close()
        super().close()
