"""Tandem's own Prometheus gauges, computed when /metrics is scraped.

django-prometheus counts requests, latencies and exceptions per view in each web process;
the gauges here describe the system, not the process (the same answer from any web
process): the broker's queue depth and how long ago the periodic jobs finished, plus what
each app registers here at start-up (running SLA timers and the sweep's lag, webhook and
mail failures). The lower app owns the list and the higher ones append to it, as with the
other hooks, so tracker imports no app. Every source costs a fixed number of cheap queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .health import broker_state, job_ages

# Each source yields metric families; appended to by AppConfig.ready() of the apps.
gauge_sources: list[Callable[[], Iterable[Metric]]] = []


def gauge(name: str, documentation: str, value: float | None, labels: dict[str, str] | None = None) -> Metric:
    """One gauge family with one sample (NaN when the value is unknown, as Prometheus has it)."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), float("nan") if value is None else value)
    return family


def tracker_gauges() -> Iterator[Metric]:
    broker = broker_state()
    yield gauge("tandem_broker_up", "1 when the Celery broker answers.", 1 if broker.up else 0)
    yield gauge(
        "tandem_queue_depth", "Tasks waiting in the Celery queues (NaN: broker down).", broker.queue_depth
    )
    ages = job_ages()
    now = timezone.now()
    yield gauge(
        "tandem_sla_sweep_age_seconds",
        "Seconds since an SLA sweep last finished (NaN: never, or the database is down).",
        ages.age(ages.sla_sweep_at, now),
    )
    yield gauge(
        "tandem_mail_poll_age_seconds",
        "Seconds since the mailboxes were last polled (NaN: never, or the database is down).",
        ages.age(ages.mail_poll_at, now),
    )


gauge_sources.append(tracker_gauges)


class TandemCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        for source in gauge_sources:
            yield from source()
