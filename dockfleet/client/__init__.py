"""The producer side: send tasks by name, route them, read what workers write."""
