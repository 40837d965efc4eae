"""Build contexts parked in Redis: a tar the client uploads for one build on some worker.

One string key per upload (`keys.build_upload`), written in one MULTI in
chunks (a worker never sees half an upload; each command stays small), with
a TTL so that an upload no worker took does not stay. The worker reads it
once and deletes it; the client deletes it again when the build is over.
"""

from __future__ import annotations

import uuid

import redis

from dockfleet import keys

#: bytes per command while the upload is written
CHUNK_BYTES = 1024 * 1024


def park(client: redis.Redis, data: bytes, ttl_seconds: int) -> str:
    """Keep `data` for `ttl_seconds`; returns the id a build names it by."""
    upload_id = uuid.uuid4().hex
    key = keys.build_upload(upload_id)
    pipe = client.pipeline(transaction=True)
    pipe.set(key, data[:CHUNK_BYTES], ex=ttl_seconds)
    for start in range(CHUNK_BYTES, len(data), CHUNK_BYTES):
        pipe.append(key, data[start : start + CHUNK_BYTES])
    pipe.execute()
    return upload_id


def size(client: redis.Redis, upload_id: str) -> int:
    """The upload's size in bytes (0 once it is gone), read without fetching it."""
    return int(client.strlen(keys.build_upload(upload_id)))


def read(binary_client: redis.Redis, upload_id: str) -> bytes | None:
    """The upload's bytes (None once it is gone); `binary_client` must not decode replies."""
    blob = binary_client.get(keys.build_upload(upload_id))
    return blob if isinstance(blob, bytes) and blob else None


def discard(client: redis.Redis, upload_id: str) -> None:
    """Delete the upload (used, or given up); deleting one that is gone is fine."""
    client.delete(keys.build_upload(upload_id))
