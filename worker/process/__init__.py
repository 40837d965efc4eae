"""The worker process's wiring around Celery: what runs beside the tasks, not what they do.

The hardened kombu transport (`broker`), the beat scheduler that schedules only
while it holds the leader key (`beat`) and its fan-out of maintenance to every
live host (`dispatch`), the threads of a worker's main process (`heartbeat`, the
`consumer_watchdog`, the container-state follower `state_cache`), `keeper`,
which renews a held key from a thread, and `periodic`, the one helper that runs
such a loop in a thread. `worker.app` starts them; tasks never call them.
"""
