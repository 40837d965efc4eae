"""Upkeep of one host, run by the tasks beat dispatches to it: nothing here serves a request.

`cleanup` removes stopped fleet containers, empty fleet networks and unused
fleet images; `reconcile` reaps orphaned job objects and containers past their
deadline; `image_gc` evicts least recently used fleet images between disk
watermarks; `stats_sweep` samples every running fleet container (from its cgroup
files: `cgroups`). `runs` holds what a cleanup and a reconcile run share (the
plan's entries, the timed report, its record), `disk` measures the engine's data
root and `ages` tells how old a fleet object is.
"""
