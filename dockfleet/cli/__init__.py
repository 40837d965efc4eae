"""The ``dockfleet`` command line: docker-like habits, tables for people, JSON for machines."""
