"""gunicorn settings for Tandem's web processes. gunicorn reads ./gunicorn.conf.py from its
working directory (the repository, /app in the image); command-line flags override it.

Measured on the 2-core benchmark machine (issue 19, wrk c=8 on the incident list): sync
workers serve more than gthread with 2 threads per worker (12.1 and 10.7 req/s against 6.7
on the same busy machine): a request is CPU-bound Python (serialising a page) with short
database waits, so threads only contend for the GIL. Keep sync workers and size them by
cores; add web containers to scale further (README, "Scaling out")."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two per core: one runs Python while the other waits on PostgreSQL or Redis.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * multiprocessing.cpu_count())))
worker_class = "sync"
# A request that runs a minute is a bug: the worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle a worker after this many requests (jittered so they do not restart together):
# bounds the memory a long-lived process can accumulate; its database connection closes cleanly.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
