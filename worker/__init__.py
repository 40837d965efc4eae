"""The worker side: Celery app, engine adapter and the logic tasks call."""
