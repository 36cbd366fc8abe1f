"""Tandem's benchmark: seeds a separate PostgreSQL database at realistic volumes and times
the endpoints, the SLA sweep and a real gunicorn server. Entry point:
`manage.py benchmark` (see tracker/management/commands/benchmark.py) or `scripts/benchmark`.

The per-app bench commands (bench_incidents, bench_board, bench_sla) stay the place where
each app's seeding and timing live; this package calls them and adds the rest."""
