"""dockfleet's benchmarks: the fleet against raw Docker, side by side (``make bench``)."""
