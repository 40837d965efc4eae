"""The operations tasks call on one host: containers, images, builds, networks.

`container_ops`, `image_ops`, `build_ops` and `network_ops` are what the
`dockfleet.containers.*`, `dockfleet.images.*` and `dockfleet.networks.*` tasks
(and the job runner) call. Beside them are the rules they apply on the worker
(`scope`, `users`, `host_paths`, the host's slot lock `slots`), the streams that
carry a task's output to its one reader (`log_stream`, `event_stream`, with
secrets masked by `masking`), and their helpers (`transfer` for pull and push
progress, `retry` for backoff). Each calls the engine through `worker.engine`
and Redis through `dockfleet.store`.
"""
