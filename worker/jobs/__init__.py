"""Running CI jobs on one host: claim, lease, services, the job container, logs, result."""
