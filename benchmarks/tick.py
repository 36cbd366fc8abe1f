"""The SLA tick with its actions handled: a real `celery -A tracker worker` (production
settings, the benchmark's database and Redis db) takes the tasks the sweep queues — the
breach's notifications with their e-mail (to a local SMTP sink), the policy's escalation,
and the `sla.breach` webhooks (to a local HTTP receiver) — and the figure runs from the
sweep's start until every one of them is done."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from incidents.models import IncidentEvent
from notifications.models import EmailState, Notification
from sla import services as sla_services
from sla.models import SLAEvent, SLAPolicy
from tests.channel.mailservers import SmtpSink
from tracker.celery import app
from webhooks.models import Delivery, DeliveryStatus, Subscription

from .measure import BenchmarkFailure, Stopwatch
from .server import production_env

ROOT = Path(settings.BASE_DIR)


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server interface
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.received += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class WebhookReceiver:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        self.server.lock, self.server.received = threading.Lock(), 0
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def received(self):
        return self.server.received


def _die_with_parent():
    """In the worker's child before exec: SIGTERM it when the benchmark dies (a killed run
    must not leave a worker consuming the bench Redis db). Linux only; elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Worker:
    """`celery -A tracker worker` (prefork, --concurrency) until stopped; no beat: the
    benchmark runs the sweep itself."""

    def __init__(self, env, concurrency=2):
        self.env, self.concurrency = env, concurrency
        self.name = f"bench-{os.getpid()}@{socket.gethostname()}"
        self.log_path = Path(tempfile.mkstemp(prefix="tandem-bench-worker-", suffix=".log")[1])

    def __enter__(self):
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--loglevel=warning",
             f"--concurrency={self.concurrency}", "-n", self.name, "--without-heartbeat",
             "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchmarkFailure(f"the celery worker exited early; see {self.log_path}")
            if app.control.ping(destination=[self.name], timeout=1.0):
                return self
        self.__exit__()
        raise BenchmarkFailure(f"the celery worker was not ready in 90 s; see {self.log_path}")

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def tick_with_actions(now, database_url, redis_url, log, timeout=600) -> dict:
    """One sweep tick (dispatch on) over the timers due at `now`, with a worker handling
    what it queued; seconds until every event is handled and every webhook delivered."""
    policies = SLAPolicy.objects.filter(timers__state="running", timers__due_at__lte=now).distinct()
    saved = {p.pk: (p.notify_on_breach, p.escalate_on_breach) for p in policies}
    SLAPolicy.objects.filter(pk__in=list(saved)).update(notify_on_breach=True, escalate_on_breach=True)
    sink = SmtpSink().start()
    try:
        with WebhookReceiver() as receiver:
            subscription = Subscription.objects.create(
                url=receiver.url, events=["sla.breach", "sla.warning"], description="benchmark receiver"
            )
            env = production_env(database_url, redis_url, 0)
            env.update(
                EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port), EMAIL_USE_TLS="false",
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="true", LOG_LEVEL="WARNING",
            )  # fmt: skip
            try:
                with Worker(env) as worker:
                    first_event = SLAEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                    started_at = timezone.now()
                    with Stopwatch() as total:
                        with Stopwatch() as tick:
                            counts = sla_services.sla_sweep_tick(now=now, batch_size=1000, dispatch=True)
                        events = SLAEvent.objects.filter(pk__gt=first_event)
                        deliveries = Delivery.objects.filter(subscription=subscription)
                        notifications = Notification.objects.filter(created_at__gte=started_at)
                        deadline = time.monotonic() + timeout
                        while True:
                            # handled events, their e-mails sent, their webhooks delivered
                            unhandled = events.filter(handled_at__isnull=True).count()
                            pending = deliveries.filter(status=DeliveryStatus.PENDING).count()
                            unsent = notifications.filter(email_state=EmailState.PENDING).count()
                            if not unhandled and not pending and not unsent:
                                break
                            if time.monotonic() > deadline or worker.proc.poll() is not None:
                                raise BenchmarkFailure(
                                    f"after {timeout} s {unhandled} SLA events unhandled, {pending} "
                                    f"webhooks pending, {unsent} e-mails unsent; see {worker.log_path}"
                                )
                            time.sleep(0.2)
                n_events = events.count()
                failed = deliveries.exclude(status=DeliveryStatus.DELIVERED).count()
                n_deliveries = deliveries.count()
                n_notifications = notifications.count()
                mails = len(sink.messages)
                webhooks = receiver.received
            finally:
                subscription.delete()  # its deliveries go with it
    finally:
        sink.stop()
        for pk, (notify, escalate) in saved.items():
            SLAPolicy.objects.filter(pk=pk).update(notify_on_breach=notify, escalate_on_breach=escalate)
    if failed or n_deliveries != n_events or webhooks < n_events:
        raise BenchmarkFailure(
            f"tick: {n_events} events but {n_deliveries} webhooks ({failed} not delivered, "
            f"{webhooks} received)"
        )
    after = IncidentEvent.objects.filter(at__gte=started_at)
    escalated = after.filter(event="escalated").count()
    skipped = after.filter(event="sla_breach_action", new="skipped").count()
    out = {
        "breaches": counts["breaches"],
        "warnings": counts["warnings"],
        "sweep_seconds": round(tick.seconds, 3),
        "seconds": round(total.seconds, 2),
        "events_handled": n_events,
        "notifications": n_notifications,
        "mails": mails,
        "webhooks": webhooks,
        "escalated_incidents": escalated,
        "breach_actions_skipped": skipped,
        "worker": f"celery prefork, concurrency {worker.concurrency}",
    }
    log(
        f"  tick with actions: {counts['breaches']:,} breaches swept in {tick.seconds:.2f} s, all handled "
        f"in {total.seconds:.1f} s ({mails:,} mails, {webhooks:,} webhooks, {escalated:,} escalated, "
        f"{skipped:,} breach actions skipped)"
    )
    return out
