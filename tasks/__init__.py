"""Celery tasks: thin views that validate, call `worker` code and return a result model."""
