"""The engine adapter: plain functions over docker-py, one file per Docker resource.

This package is the only code that imports `docker`. Functions take a client
(`client.EngineClient`, opaque outside) and a spec, and return dockfleet models
or the worker's typed `objects`, never docker-py objects nor the engine's JSON;
they raise only dockfleet errors (`errors.translated`). The few raw functions
left (`containers.inspect_raw`, `containers.list_summaries`, `networks.create`,
`networks.inspect`, `networks.remove`) say which typed one replaces them.
"""
