"""What operators read (SPEC §17): /healthz with the sweep's and the poll's age and the queue
depth, Prometheus metrics at /metrics, JSON logs carrying a request id into Celery tasks."""

import io
import json
import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mail.models import InboundMessage, Mailbox, OutboundMail, Outcome, SendState
from sla.models import SLATimer, TimerState
from tests.sla.factories import PolicyFactory, make_incident
from tracker import logs
from tracker.models import Heartbeat
from tracker.services import MAIL_POLL, SLA_SWEEP, heartbeat_record
from webhooks.models import Delivery, DeliveryStatus, Subscription


# ------------------------------------------------------------------ /healthz
@pytest.mark.django_db
def test_healthz_reports_sweep_and_poll_ages_and_queue_depth(client, settings):
    settings.SLA_SWEEP_SECONDS = 30
    heartbeat_record(SLA_SWEEP, at=timezone.now() - timedelta(seconds=40))
    heartbeat_record(MAIL_POLL, at=timezone.now() - timedelta(seconds=90))
    body = client.get("/healthz").json()
    assert body["sla_sweep"] == "ok"
    assert 40 <= body["sla_sweep_age_seconds"] < 60
    assert 90 <= body["mail_poll_age_seconds"] < 110
    assert body["sla_sweep_stale_after_seconds"] == 300
    assert isinstance(body["queue_depth"], int) and body["queue_depth"] >= 0


@pytest.mark.django_db
def test_healthz_is_503_when_the_sweep_is_stale_and_200_again_after_a_sweep(client, settings):
    settings.HEALTHZ_SWEEP_STALE_SECONDS = 60
    heartbeat_record(SLA_SWEEP, at=timezone.now() - timedelta(seconds=61))
    stale = client.get("/healthz")
    assert stale.status_code == 503
    assert stale.json()["sla_sweep"] == "stale" and stale.json()["database"] == "ok"
    from sla.tasks import sla_sweep

    sla_sweep.run()  # the task itself records its heartbeat
    fresh = client.get("/healthz")
    assert fresh.status_code == 200
    assert fresh.json()["sla_sweep"] == "ok" and fresh.json()["sla_sweep_age_seconds"] < 5


@pytest.mark.django_db
def test_healthz_never_swept_is_reported_not_failed(client):
    Heartbeat.objects.all().delete()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert (body["sla_sweep"], body["sla_sweep_age_seconds"], body["mail_poll_age_seconds"]) == (
        "never",
        None,
        None,
    )


@pytest.mark.django_db
def test_the_mail_poll_records_its_heartbeat_even_with_no_mailbox():
    from mail.tasks import mail_poll

    assert mail_poll.run() == 0
    assert Heartbeat.objects.get(name=MAIL_POLL).at > timezone.now() - timedelta(seconds=5)


def test_queue_depth_counts_what_waits_in_the_broker():
    """Tasks published to a queue nobody consumes are counted, across priorities."""
    from kombu import Connection

    from tracker.celery import app
    from tracker.health import broker_state

    original = app.conf.task_default_queue
    queue = f"ops-depth-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        from tracker.tasks import ping

        for n in range(3):
            ping.apply_async(args=[n], queue=queue)
        ping.apply_async(args=[9], queue=queue, priority=6)
        assert broker_state().queue_depth == 4
    finally:
        with Connection(app.conf.broker_url) as conn:
            conn.default_channel.queue_purge(queue)
        app.conf.task_default_queue = original
    assert broker_state().queue_depth is not None


def test_queue_depth_is_none_when_the_broker_is_down(settings):
    from tracker.health import broker_state

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    state = broker_state(timeout=0.5)
    assert (state.up, state.queue_depth) == (False, None)


# ------------------------------------------------------------------ /metrics
def _metrics(client, **headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    return families, response


def _value(families, name, **labels):
    for sample in families[name].samples:
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    raise AssertionError(f"no sample {name} {labels}")


def _seed_for_metrics(n):
    policy = PolicyFactory(priority="P2")
    now = timezone.now()
    for i in range(n):
        incident = make_incident()
        SLATimer.objects.create(
            incident=incident, metric="resolution", policy=policy, state=TimerState.RUNNING,
            started_at=now - timedelta(hours=2), due_at=now - timedelta(minutes=10 + i),
            warn_at=now - timedelta(hours=1),
        )  # fmt: skip
        SLATimer.objects.create(
            incident=incident, metric="response", policy=policy, state=TimerState.MET,
            started_at=now - timedelta(hours=2), due_at=now + timedelta(hours=1),
            warn_at=now + timedelta(minutes=30),
        )  # fmt: skip
        sub = Subscription.objects.create(url=f"https://hooks.example.com/{i}", events=[])
        for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.DELIVERED):
            Delivery.objects.create(
                subscription=sub, event="incident.created", payload={}, status=status, created_at=now,
                attempts=1 if status != DeliveryStatus.DELIVERED else 0,
            )  # fmt: skip
        for state in (SendState.PENDING, SendState.FAILED, SendState.SENT):
            OutboundMail.objects.create(
                incident=incident, kind="reply", message_id=f"<{uuid.uuid4()}@t>", from_address="a@t",
                subject="s", state=state, created_at=now,
            )  # fmt: skip
        mailbox = Mailbox.objects.create(
            name=f"Box {uuid.uuid4()}", address=f"box-{uuid.uuid4().hex[:10]}@example.com",
            default_service=incident.service, last_error="refused",
        )  # fmt: skip
        InboundMessage.objects.create(
            mailbox=mailbox,
            imap_key=f"1:{i}",
            message_id=f"<in{i}@t>",
            received_at=now,
            outcome=Outcome.FAILED,
        )
    return now


@pytest.mark.django_db
def test_metrics_are_prometheus_text_with_tandem_gauges_from_the_rows(client, settings):
    settings.METRICS_TOKEN = ""
    _seed_for_metrics(3)
    heartbeat_record(SLA_SWEEP, at=timezone.now() - timedelta(seconds=20))
    client.get("/healthz")  # a request for django-prometheus to count
    families, _ = _metrics(client)
    assert _value(families, "tandem_sla_timers_running") == 3
    # the oldest running timer is 12 minutes past due and not breached yet
    assert 12 * 60 <= _value(families, "tandem_sla_sweep_lag_seconds") < 13 * 60
    assert 20 <= _value(families, "tandem_sla_sweep_age_seconds") < 40
    assert _value(families, "tandem_webhook_deliveries", state="pending") == 3
    assert _value(families, "tandem_webhook_deliveries", state="retrying") == 3
    assert _value(families, "tandem_webhook_deliveries", state="failed") == 3
    assert _value(families, "tandem_outbound_mail", state="failed") == 3
    assert _value(families, "tandem_outbound_mail", state="pending") == 3
    assert _value(families, "tandem_inbound_mail_failed") == 3
    assert _value(families, "tandem_mailboxes_failing") == 3
    assert _value(families, "tandem_broker_up") == 1
    assert _value(families, "tandem_queue_depth") >= 0
    # django-prometheus's own request metrics are there too
    assert "django_http_requests_latency_seconds_by_view_method" in families
    assert any(
        s.labels.get("view") == "healthz"
        for s in families["django_http_requests_total_by_view_transport_method"].samples
    )


@pytest.mark.django_db
def test_metrics_scrape_costs_the_same_queries_whatever_the_rows(client, settings):
    settings.METRICS_TOKEN = ""
    _seed_for_metrics(1)
    with CaptureQueriesContext(connection) as few:
        _metrics(client)
    _seed_for_metrics(6)
    with CaptureQueriesContext(connection) as many:
        _metrics(client)
    assert len(few) == len(many) <= 7


@pytest.mark.django_db
def test_metrics_need_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong"},
        {"HTTP_AUTHORIZATION": "Token s3cret-metrics-token"},
    ):
        response = client.get("/metrics", **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["code"] == "not_authenticated"
    families, _ = _metrics(client, HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert "tandem_sla_timers_running" in families


@pytest.mark.django_db
def test_metrics_and_healthz_never_redirect_to_the_login(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)


# ------------------------------------------------------------------ logs
@pytest.fixture
def json_log():
    """The production formatter on a handler of our own: what a JSON log shipper reads."""
    import logging.config

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.config.DictConfigurator({}).configure_custom(dict(logs.formatter(json=True)))
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_logs_one_json_line_with_its_request_id(client, desk_user, json_log):
    client.force_login(desk_user)
    response = client.get("/api/v1/incidents/", HTTP_X_REQUEST_ID="req-from-the-proxy-1")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-from-the-proxy-1"
    finished = [line for line in json_log() if line.get("event") == "request_finished"]
    assert len(finished) == 1
    line = finished[0]
    assert line["request_id"] == "req-from-the-proxy-1"
    assert line["user_id"] == desk_user.pk
    assert (line["code"], line["path"], line["level"]) == (200, "/api/v1/incidents/", "info")
    assert line["duration_ms"] >= 0 and line["timestamp"].endswith("Z")


@pytest.mark.django_db
def test_a_request_without_an_id_gets_a_fresh_one_back(client, json_log):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second and uuid.UUID(first) and uuid.UUID(second)
    ids = [line["request_id"] for line in json_log() if line.get("event") == "request_finished"]
    assert ids == [first, second]


@pytest.mark.django_db
def test_plain_library_log_lines_inside_a_request_carry_the_request_id(json_log):
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="r-42"):
        logging.getLogger("sla.tasks").warning("sweep said %s", "hello")
    line = next(line for line in json_log() if line.get("logger") == "sla.tasks")
    assert (line["event"], line["request_id"], line["level"]) == ("sweep said hello", "r-42", "warning")


@pytest.mark.django_db
def test_a_task_queued_by_a_request_carries_its_request_id_in_the_headers(client, desk_user, settings):
    """The publishing side: django-structlog puts the bound context into the task headers."""
    from celery.signals import before_task_publish

    seen = []

    def spy(headers=None, **kwargs):
        seen.append(dict(headers.get("__django_structlog__") or {}))

    before_task_publish.connect(spy, weak=False)
    try:
        import structlog

        from tracker.tasks import ping

        with structlog.contextvars.bound_contextvars(request_id="req-77", user_id=desk_user.pk):
            ping.apply_async(args=[1], queue="ops-nobody-consumes")
    finally:
        before_task_publish.disconnect(spy)
        from tracker.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("ops-nobody-consumes")
    assert seen and seen[-1]["request_id"] == "req-77" and seen[-1]["user_id"] == desk_user.pk


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_the_request_id_in_the_worker(client, settings):
    """End to end: an incident created over the API queues its webhook delivery after commit;
    the real worker's JSON log lines for that task carry the id the request was given."""
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from accounts.roles import Role
    from tests.factories import ServiceFactory, UserFactory
    from tests.reliability.helpers import Worker, database_url

    Group.objects.get_or_create(name=Role.SERVICE_DESK)
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    service = ServiceFactory()
    service.support_team.members.add(desk)
    Subscription.objects.create(url="http://127.0.0.1:9/hook", events=["incident.created"])
    worker = Worker(
        broker_url=settings.CELERY_BROKER_URL, db_url=database_url(connection.settings_dict),
        name="ops-logs", pool="solo", concurrency=1, sweep_seconds=3600, extra_env={"LOG_FORMAT": "json"},
    ).start()  # fmt: skip
    try:
        offset = worker.log_path.stat().st_size
        response = client.post(
            "/api/v1/incidents/",
            {"title": "Logged", "description": "x", "service": service.pk, "impact": "low",
             "urgency": "low", "type": "incident"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=desk).key}",
            HTTP_X_REQUEST_ID="req-into-celery-1",
        )  # fmt: skip
        assert response.status_code == 201, response.content
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            with open(worker.log_path) as fh:
                fh.seek(offset)
                lines = [json.loads(x) for x in fh if x.startswith("{")]
            if any(x.get("event") in ("task_succeeded", "task_failed") for x in lines):
                break
            time.sleep(0.2)
    finally:
        worker.stop()
    started = [x for x in lines if x.get("event") == "task_started" and x["task"].startswith("webhooks.")]
    assert [x["task"] for x in started] == ["webhooks.tasks.webhook_deliver"]
    assert started[0]["request_id"] == "req-into-celery-1"
    assert started[0]["task_id"]
    # every line logged while the task ran carries it, the worker's own included
    during = [x for x in lines if x.get("task_id") == started[0]["task_id"]]
    assert len(during) >= 2 and all(x["request_id"] == "req-into-celery-1" for x in during)
