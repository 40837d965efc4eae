"""The engine adapter: plain functions over docker-py, one file per Docker resource.

This package is the only code that imports `docker`. Functions take a client
and a spec and return dockfleet models, never docker-py objects.
"""
