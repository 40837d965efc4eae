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
  kept-alive unix socket and hands docker-py a real `requests.Response`:
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

import json
import select
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import docker
import requests
from docker.transport import UnixHTTPAdapter
from docker.utils.decorators import check_resource
from requests.models import RequestEncodingMixin
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from worker.engine import http11

_ONE_POOL = "http+docker://localhost"
#: calls sent again once when a kept-alive socket turns out closed (they change nothing)
IDEMPOTENT = frozenset({"GET", "HEAD"})
#: idle connections kept per socket; more threads than this open and close their own
MAX_IDLE = 16


class SharedUnixPoolAdapter(UnixHTTPAdapter):
    def get_connection(self, url: Any, proxies: Any = None) -> Any:
        return super().get_connection(_ONE_POOL, proxies)


class _UnixConnection:
    """One kept-alive connection to the engine's socket."""

    def __init__(self, socket_path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(socket_path)
        except OSError:
            self.sock.close()
            raise
        self.stream = self.sock.makefile("rb")

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None,
        timeout: float | None,
    ) -> http11.Answer:  # fmt: skip
        self.sock.settimeout(timeout)
        self.sock.sendall(http11.request_bytes(method, target, headers, body))
        return http11.read_answer(self.stream, method)

    def dropped(self) -> bool:
        """An idle kept-alive socket that reads as ready was closed by the engine (or holds
        bytes nobody asked for): either way it cannot carry the next call."""
        return bool(select.select([self.sock], [], [], 0)[0])

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


class UnixSocketCalls:
    """Plain HTTP/1.1 calls to one unix socket over a small pool of kept-alive connections,
    safe to share between threads (each connection serves one call at a time)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[_UnixConnection] = []
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        url: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
    ) -> http11.Answer:
        """Send one request for `target` (path and query) and read its whole answer
        (`whole_response` makes it the `requests.Response` of `url` docker-py reads);
        errors as requests raises them."""
        conn: _UnixConnection | None = None
        try:
            conn, reused = self._take()
            try:
                answer = conn.exchange(method, target, headers, body, timeout)
            except (OSError, http11.BadAnswer) as first:
                # The engine may close a kept-alive socket just as a call goes out on
                # it (a restart, an idle timeout): a call that changes nothing is sent
                # again once on a new socket; one that does is the caller's to retry.
                if not reused or method not in IDEMPOTENT or isinstance(first, TimeoutError):
                    raise
                conn.close()
                conn = _UnixConnection(self.socket_path)
                answer = conn.exchange(method, target, headers, body, timeout)
        except (OSError, http11.BadAnswer) as exc:
            raise _requests_error(url, exc, conn) from exc
        if answer.head.keep_alive:
            self._give_back(conn)
        else:
            conn.close()
        return answer

    def open_stream(
        self, method: str, url: str, target: str, headers: dict[str, str], timeout: float | None
    ) -> requests.Response:
        """Send one request and read its head: the `requests.Response` of `url` whose `raw`
        reads the body as it comes, on a connection of its own (closed at the body's end)."""
        conn: _UnixConnection | None = None
        try:
            conn = _UnixConnection(self.socket_path)
            conn.sock.settimeout(timeout)
            conn.sock.sendall(http11.request_bytes(method, target, headers, None))
            head = http11.read_head(conn.stream, method)
        except (OSError, http11.BadAnswer) as exc:
            raise _requests_error(url, exc, conn) from exc
        response = _response(url, head)
        response._content = False  # type: ignore[assignment]  # read from `raw`, as requests does
        response.raw = StreamBody(conn, http11.Body(conn.stream, head), url)
        return response

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> tuple[_UnixConnection, bool]:
        """A connection, and whether it carried a call before."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return _UnixConnection(self.socket_path), False
            if not conn.dropped():
                return conn, True
            conn.close()

    def _give_back(self, conn: _UnixConnection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()


class StreamBody:
    """The `raw` of a streamed answer: its body as it arrives. `close` may come from another
    thread: it ends a read that waits (the socket is shut down), and that read ends the
    body, as a closed urllib3 response does."""

    def __init__(self, conn: _UnixConnection, body: http11.Body, url: str) -> None:
        self._conn = conn
        self._body = body
        self._url = url
        self.closed = False

    def read1(self, size: int = 65536) -> bytes:
        """What has arrived, up to `size` bytes (one at least); b"" at the end."""
        return self._read(self._body.read1, size)

    def read(self, size: int | None = -1, **_: Any) -> bytes:
        """`size` bytes (all if None or negative), fewer only at the end."""
        return self._read(self._body.read, -1 if size is None else size)

    def chunks(self) -> Iterator[bytes]:
        while data := self.read1():
            yield data

    def settimeout(self, timeout: float | None) -> None:
        self._conn.sock.settimeout(timeout)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._conn.sock.shutdown(socket.SHUT_RDWR)  # wakes a read waiting in another thread
        except OSError:
            pass  # not connected any more
        self._conn.close()

    def _read(self, read: Any, size: int) -> bytes:
        if self.closed:
            return b""
        try:
            data: bytes = read(size)
        except (OSError, ValueError, http11.BadAnswer) as exc:
            if self.closed:  # `close` cut it short: the body ends here
                return b""
            self.close()
            raise _requests_error(self._url, exc, None) from exc
        if self._body.done:
            self.close()
        return data


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


def whole_response(url: str, answer: http11.Answer) -> requests.Response:
    """A whole answer as the `requests.Response` of `url` requests' adapter would build."""
    response = _response(url, answer.head)
    response._content = answer.body
    return response


def _response(url: str, head: http11.Head) -> requests.Response:
    """The `requests.Response` requests' own adapter would have built for this answer
    (its body still to set)."""
    response = requests.Response()
    response.status_code = head.status
    response.reason = head.reason
    response.headers = CaseInsensitiveDict(head.headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.url = url
    return response


def _requests_error(
    url: str, exc: Exception, conn: _UnixConnection | None
) -> requests.exceptions.RequestException:
    """`exc` of a call to `url` as requests raises it; `conn` cannot carry another call."""
    if conn is not None:
        conn.close()
    if isinstance(exc, TimeoutError):
        return requests.exceptions.ReadTimeout(f"{url}: {exc}")
    return requests.exceptions.ConnectionError(f"{url}: {exc!r}")


def query_string(params: Any) -> str:
    """`params` encoded by requests' own encoder (None values left out, a list repeated)."""
    if not params:
        return ""
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
