"""The exporter's metric families, one module per subject (jobs, hosts, containers,
maintenance): each reads its records from Redis at a scrape and yields Prometheus families.

Every counter here is kept in Redis by the code that makes it happen, never in the
exporter's memory, so an exporter restart (or a second exporter) shows the same counts.
The metrics, their labels and what each answers: docs/metrics.md.
"""
