"""``python -m dockfleet``: the same as the ``dockfleet`` command."""

from dockfleet.cli.main import main

main()
