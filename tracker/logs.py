"""Structured logs: structlog over the standard library's logging, so Django's, Celery's and
Tandem's own `logging.getLogger(...)` lines and structlog's events come out of one handler in
one format: JSON lines in production (LOG_FORMAT=json), readable key=value lines elsewhere.

django-structlog binds a request id to every line logged while a request runs (the caller's
`X-Request-ID` when it sends one, else a new UUID), logs `request_finished` with the status,
and carries the request id in the headers of every Celery task the request queues; the worker
binds it again while the task runs (`StructlogWorkerStep`). Tandem adds the path, the
duration and the `X-Request-ID` response header (`request_finished` below).

Imported by the settings: structlog only, nothing of Django's that needs set-up apps."""

from __future__ import annotations

import time
from typing import Any

import structlog

# Shared by structlog's own loggers and, as the formatter's pre-chain, by standard-library
# records: the bound context (request_id, user_id, task_id), the level, the logger, the time.
_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def formatter(json: bool) -> dict[str, Any]:
    """A dictConfig formatter entry rendering every record (structlog's or not)."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
    }


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter(json)},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-structlog's request_finished replaces the per-request server line.
            "django.server": {"level": "WARNING"},
        },
    }


# ------------------------------------------------------------------ django-structlog hooks
def request_started(sender: Any, request: Any, **kwargs: Any) -> None:
    request._tandem_log_started = time.monotonic()


def request_finished(
    sender: Any, request: Any, response: Any, log_kwargs: dict[str, Any], **kwargs: Any
) -> None:
    """The request id goes back to the caller; the line says where and how long."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        response["X-Request-ID"] = request_id
    log_kwargs["path"] = request.path
    started = getattr(request, "_tandem_log_started", None)
    if started is not None:
        log_kwargs["duration_ms"] = round((time.monotonic() - started) * 1000, 1)


def request_failed(sender: Any, request: Any, response: Any, **kwargs: Any) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id:
        response["X-Request-ID"] = request_id


def connect_request_hooks() -> None:
    from django_structlog import signals

    signals.update_failure_response.connect(request_failed, dispatch_uid="tandem-log-failed")
    signals.bind_extra_request_metadata.connect(request_started, dispatch_uid="tandem-log-start")
    signals.bind_extra_request_finished_metadata.connect(request_finished, dispatch_uid="tandem-log-finish")
