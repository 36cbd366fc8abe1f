"""Scale-out, proven on one machine (issue 19, SPEC §17): PostgreSQL and Redis, two gunicorn
instances (production settings) behind a small round-robin proxy, three Celery workers with
distinct node names, one beat, and locust (its own virtualenv) loading the API for a bounded
time. Half-way through, one gunicorn instance and one worker are SIGKILLed and restarted.
Then it checks that every acknowledged write is stored once, every SLA breach, webhook and
e-mail happened exactly once, and every request was answered 2xx or with a JSON 503 that a
retry turned into a 2xx; and prints requests/s, p95 and the counts.

    scripts/cluster                 # 120 s of load (the issue's run)
    scripts/cluster --seconds 30    # the battery's shorter run (tests/reliability/test_battery_cluster.py)

Run with the test settings against its own database (DATABASE_URL, e.g. tandem_cluster) and
Redis db (REDIS_URL); the servers it starts use the production settings on the same ones.

The proxy is the load balancer's part: it sends each request to the next instance, fails over
to the other when an instance refuses the connection (nothing was sent, so any request may go
again), and answers a JSON 503 with Retry-After when an instance dies holding a request (it
may or may not have been applied, so only the client, with its Idempotency-Key, may retry)."""

from __future__ import annotations

import argparse
import csv
import http.client
import http.server
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LOCUST = ROOT / ".venv-locust" / "bin" / "locust"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the round-robin proxy
class Proxy:
    def __init__(self, backends: list[int]):
        self.backends = backends
        self.port = free_port()
        self._next = itertools.cycle(range(len(backends)))
        self._lock = threading.Lock()
        self.stats = Counter()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-Proto"] = "https"  # TLS ends at the balancer
                with proxy._lock:
                    first = next(proxy._next)
                order = [
                    proxy.backends[(first + i) % len(proxy.backends)] for i in range(len(proxy.backends))
                ]
                for port in order:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    try:
                        conn.connect()
                    except OSError:
                        proxy.stats["failed over (connection refused)"] += 1
                        continue
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        upstream = conn.getresponse()
                        data = upstream.read()
                    except (OSError, http.client.HTTPException):
                        proxy.stats["503 (instance died holding the request)"] += 1
                        return self._answer_503()
                    finally:
                        conn.close()
                    proxy.stats["relayed"] += 1
                    self.send_response(upstream.status)
                    for k, v in upstream.getheaders():
                        if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                proxy.stats["503 (no instance up)"] += 1
                return self._answer_503()

            def _answer_503(self):
                data = json.dumps(
                    {"code": "service_unavailable", "detail": "No web instance answered; try again."}
                ).encode()
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay  # noqa: N815

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()


# ------------------------------------------------------------------ webhook receiver
class WebhookReceiver:
    """Counts deliveries by their X-Tandem-Delivery id."""

    def __init__(self):
        self.port = free_port()
        self.received = Counter()
        lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    receiver.received[self.headers.get("X-Tandem-Delivery")] += 1
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()


# ------------------------------------------------------------------ processes
class Proc:
    """A process of ours in its own process group (SIGKILL takes its children with it)."""

    def __init__(self, name, args, env, log_dir, ready):
        self.name, self.args, self.env, self.ready = name, args, env, ready
        self.log_path = log_dir / f"{name}.log"
        self.proc = None

    def start(self, timeout=90):
        self.log = open(self.log_path, "a")  # noqa: SIM115
        self.log.write(f"\n===== start {time.strftime('%H:%M:%S')}\n")
        self.log.flush()
        offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            if self.ready(self, offset):
                return self
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"{self.name} not ready in {timeout} s; see {self.log_path}")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def stop(self):
        self.kill(signal.SIGTERM)


def _log_says(text):
    def ready(proc, offset):
        with open(proc.log_path) as fh:
            fh.seek(offset)
            return text in fh.read()

    return ready


def _answers_healthz(port):
    def ready(proc, offset):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status in (200, 503)
        except OSError:
            return False

    return ready


# ------------------------------------------------------------------ the run
def seed(n_breaches: int, run_seconds: float, receiver_url: str, cards: int):
    """Users and tokens, a service with a customer and a contact (so every new incident is
    acknowledged by mail), a board with cards, a webhook subscription for creations and
    breaches, and n incidents whose resolution clocks fall due during the run."""
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.roles import STAFF_ROLES, Role
    from boards.models import ColumnCategory
    from incidents.models import Incident
    from org.models import Contact, Customer
    from sla.models import SLATimer, TimerState
    from tests.boards.factories import BoardFactory, CardFactory, column_of
    from tests.factories import ServiceFactory, UserFactory
    from tests.sla.factories import PolicyFactory
    from webhooks.models import Subscription

    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    dev = UserFactory(roles=[Role.DEVELOPER])
    service = ServiceFactory()
    service.support_team.members.add(desk)
    customer = Customer.objects.create(name=f"Cluster customer {uuid.uuid4().hex[:6]}")
    contact = Contact.objects.create(customer=customer, name="Casey Cluster", email="casey@customer.example")
    board = BoardFactory(teams=[service.team])
    first, second = column_of(board, ColumnCategory.READY), column_of(board, ColumnCategory.IN_PROGRESS)
    card_ids = [CardFactory(board=board, column=first).pk for _ in range(cards)]
    Subscription.objects.create(url=receiver_url, events=["incident.created", "sla.breach"])
    policy = PolicyFactory(priority="P3")
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        [
            Incident(key=f"INC-CL{i}", title=f"Breaches during the run {i}", service=service,
                     team=service.support_team, priority="P3", created_at=now - timedelta(hours=1))
            for i in range(n_breaches)
        ]
    )  # fmt: skip
    window = max(run_seconds - 20, 5)
    SLATimer.objects.bulk_create(
        [
            SLATimer(
                incident=inc, metric="resolution", policy=policy, state=TimerState.RUNNING,
                started_at=now - timedelta(hours=1), target_minutes=60,
                due_at=now + timedelta(seconds=10 + window * i / max(n_breaches, 1)),
                warn_at=now + timedelta(days=1),
            )
            for i, inc in enumerate(incidents)
        ]
    )  # fmt: skip
    return {
        "TANDEM_DESK_TOKEN": Token.objects.create(user=desk).key,
        "TANDEM_DEV_TOKEN": Token.objects.create(user=dev).key,
        "TANDEM_SERVICE": str(service.pk),
        "TANDEM_CUSTOMER": str(customer.pk),
        "TANDEM_REQUESTER": str(contact.pk),
        "TANDEM_CARDS": ",".join(map(str, card_ids)),
        "TANDEM_COLUMNS": f"{first.pk},{second.pk}",
        "TANDEM_INCIDENTS": ",".join(str(i.pk) for i in incidents[:10]),
    }, [i.pk for i in incidents]


def run(*, seconds: float, users: int, breaches: int, out_dir: Path, log=print) -> dict:
    from django.conf import settings
    from django.db import connection

    from benchmarks.server import production_env
    from tests.channel.mailservers import SmtpSink
    from tests.reliability.helpers import database_url

    if not LOCUST.exists():
        raise RuntimeError(f"{LOCUST} is missing: scripts/cluster installs locust into .venv-locust")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*"):
        old.unlink()
    db_url = database_url(connection.settings_dict)
    redis_url = settings.CELERY_BROKER_URL
    sink = SmtpSink().start()
    receiver = WebhookReceiver().start()
    fixtures, breach_incidents = seed(breaches, seconds, f"http://127.0.0.1:{receiver.port}/hook", users + 4)
    ports = [free_port(), free_port()]
    env = production_env(db_url, redis_url, ports[0])
    env.update(
        {
            "LOG_LEVEL": "INFO",
            "SLA_SWEEP_SECONDS": "3",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
            "METRICS_TOKEN": "cluster-metrics",
            "DATABASE_CONN_MAX_AGE": "0",
        }
    )
    py = sys.executable
    webs = [
        Proc(f"web-{i + 1}", [py, "-m", "gunicorn", "tracker.wsgi:application", "--bind", f"127.0.0.1:{port}",
                              "--workers", "2", "--timeout", "60", "--graceful-timeout", "5"],
             env, out_dir, _answers_healthz(port))
        for i, port in enumerate(ports)
    ]  # fmt: skip
    workers = [
        Proc(f"worker-{i + 1}", [py, "-m", "celery", "-A", "tracker", "worker", "--pool=prefork",
                                 "--concurrency=2", "-n", f"cluster-w{i + 1}@%h", "--without-gossip",
                                 "--without-mingle"],
             env, out_dir, _log_says("ready."))
        for i in range(3)
    ]  # fmt: skip
    beat = Proc(
        "beat", [py, "-m", "celery", "-A", "tracker", "beat", "--schedule", str(out_dir / "beat-schedule")],
        env, out_dir, _log_says("holds the lock"),
    )  # fmt: skip
    proxy = Proxy(ports)
    events_path = out_dir / "events.jsonl"
    started = [*webs, *workers, beat]
    drill = {}
    try:
        for proc in started:
            proc.start()
        proxy.start()
        log(f"  2 gunicorn x 2 workers on {ports}, proxy :{proxy.port}, 3 Celery workers, 1 beat")
        locust_env = {**os.environ, **fixtures, "TANDEM_CLUSTER_EVENTS": str(events_path)}
        locust_env.pop("PYTHONPATH", None)
        locust = subprocess.Popen(  # noqa: S603 - locust from its own venv, our arguments
            [str(LOCUST), "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless", "-u", str(users),
             "-r", str(users), "-t", f"{int(seconds)}s", "--host", f"http://127.0.0.1:{proxy.port}",
             "--csv", str(out_dir / "locust"), "--only-summary", "--stop-timeout", "30"],
            cwd=ROOT, env=locust_env, stdout=open(out_dir / "locust.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
        )  # fmt: skip
        time.sleep(seconds / 2)
        log(f"  t={seconds / 2:.0f}s: SIGKILL {webs[0].name} (master and workers) and {workers[0].name}")
        webs[0].kill()
        workers[0].kill()
        drill["killed"] = [webs[0].name, workers[0].name]
        time.sleep(3)
        webs[0].start()
        workers[0].start()
        log("  both restarted")
        locust.wait(timeout=seconds + 120)
        log("  load over; waiting for the background work to finish")
        settle = _settle(breach_incidents, timeout=120)
        metrics = _scrape(ports[1], "cluster-metrics")
    finally:
        for proc in reversed(started):
            proc.stop()
        proxy.stop()
    result = _check(events_path, out_dir, breach_incidents, receiver, sink)
    result["proxy"] = dict(proxy.stats)
    result["settled_seconds"] = settle
    result["metrics_sample"] = metrics
    result["drill"] = drill
    receiver.stop()
    sink.stop()
    return result


def _settle(breach_incidents, timeout):
    """Wait until every seeded clock breached and no webhook or mail is pending."""
    from mail.models import OutboundMail, SendState
    from sla.models import SLATimer, TimerState
    from webhooks.models import Delivery, DeliveryStatus

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        running = SLATimer.objects.filter(incident_id__in=breach_incidents, state=TimerState.RUNNING).count()
        pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).count()
        mails = OutboundMail.objects.filter(state=SendState.PENDING).count()
        if not (running or pending or mails):
            break
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def _scrape(port, token):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
        text = conn.getresponse().read().decode()
    except OSError:
        return {}
    return {
        line.split(" ")[0]: line.split(" ")[-1]
        for line in text.splitlines()
        if line.startswith(("tandem_queue_depth", "tandem_sla_sweep_lag", "tandem_webhook_deliveries{"))
    }


def _check(events_path, out_dir, breach_incidents, receiver, sink) -> dict:
    from django.db.models import Count

    from incidents.models import Comment, Incident
    from mail.models import OutboundMail, SendState
    from sla.models import SLAEvent, SLATimer, TimerState
    from webhooks.models import Delivery, DeliveryStatus

    events = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    ops = [e for e in events if "op" in e and e["op"] != "created"]
    bad = [e for e in ops if not e["ok"]]
    retried = sum(1 for e in ops if e["retried"])
    acked_creates = {e["key"] for e in ops if e["op"] == "create" and e["ok"]}
    acked_replies = {e["key"] for e in ops if e["op"] == "reply" and e["ok"]}

    titles = Counter(
        t.removeprefix("cluster ")
        for t in Incident.objects.filter(title__startswith="cluster ").values_list("title", flat=True)
    )
    bodies = Counter(
        b.removeprefix("reply ")
        for b in Comment.objects.filter(body__startswith="reply ").values_list("body", flat=True)
    )
    breach_counts = Counter(
        SLAEvent.objects.filter(kind="breach", timer__incident_id__in=breach_incidents).values_list(
            "timer_id", flat=True
        )
    )
    timers = SLATimer.objects.filter(incident_id__in=breach_incidents, metric="resolution")
    deliveries = list(Delivery.objects.values_list("delivery_id", "status", "event"))
    mails = list(OutboundMail.objects.values_list("message_id", "state"))
    sink_ids = Counter(m["Message-ID"] for m in sink.messages)

    result = {
        "operations": len(ops),
        "operations by kind": dict(Counter(e["op"] for e in ops)),
        "answered 2xx in the end": len(ops) - len(bad),
        "not 2xx in the end": len(bad),
        "needed a retry (JSON 503 or no answer)": retried,
        "bad answers": bad[:5],
        "creates acknowledged": len(acked_creates),
        "creates stored": sum(1 for k in acked_creates if titles.get(k)),
        "creates stored twice": sum(1 for k, n in titles.items() if n > 1),
        "creates stored without an acknowledgement": sum(1 for k in titles if k not in acked_creates),
        "replies acknowledged": len(acked_replies),
        "replies stored": sum(1 for k in acked_replies if bodies.get(k)),
        "replies stored twice": sum(1 for k, n in bodies.items() if n > 1),
        "clocks due in the run": timers.count(),
        "clocks breached": timers.filter(state=TimerState.BREACHED).count(),
        "breach events": sum(breach_counts.values()),
        "breaches recorded twice": sum(1 for n in breach_counts.values() if n > 1),
        "webhook deliveries": len(deliveries),
        "webhook deliveries by event": dict(Counter(e for _, _, e in deliveries)),
        "webhooks delivered": sum(1 for _, s, _ in deliveries if s == DeliveryStatus.DELIVERED),
        "webhooks received (distinct ids)": sum(1 for d, _, _ in deliveries if receiver.received.get(str(d))),
        "webhooks received twice (same id)": sum(1 for n in receiver.received.values() if n > 1),
        "mails": len(mails),
        "mails sent": sum(1 for _, s in mails if s == SendState.SENT),
        "mails received by the sink": sum(1 for m, _ in mails if sink_ids.get(m)),
        "mails received twice": sum(1 for m, _ in mails if sink_ids.get(m, 0) > 1),
    }
    result.update(_locust_figures(out_dir))
    dup = OutboundMail.objects.values("incident", "kind", "comment").annotate(n=Count("id")).filter(n__gt=1)
    result["mail rows doubled"] = dup.filter(kind="ack").count()
    return result


def _locust_figures(out_dir) -> dict:
    path = out_dir / "locust_stats.csv"
    if not path.exists():
        return {"locust": "no stats written; see locust.log"}
    rows = {r["Name"]: r for r in csv.DictReader(path.open())}
    total = rows.get("Aggregated", {})
    per = {
        name: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
               "req/s": round(float(r["Requests/s"]), 1), "p95 ms": r["95%"]}
        for name, r in rows.items() if name != "Aggregated"
    }  # fmt: skip
    return {
        "requests": int(total.get("Request Count", 0)),
        "requests/s": round(float(total.get("Requests/s", 0)), 1),
        "p50 ms": total.get("50%"),
        "p95 ms": total.get("95%"),
        "attempts failed (retried)": int(total.get("Failure Count", 0)),
        "per request": per,
    }


def verdict(result: dict) -> list[str]:
    """What must hold; each failure is a sentence."""
    problems = []

    def need(cond, text):
        if not cond:
            problems.append(text)

    need(result["operations"] > 0, "no load ran")
    need(result["not 2xx in the end"] == 0, f"{result['not 2xx in the end']} operations never got a 2xx")
    need(result["creates stored"] == result["creates acknowledged"], "an acknowledged create is missing")
    need(result["creates stored twice"] == 0, "a create was stored twice")
    need(result["replies stored"] == result["replies acknowledged"], "an acknowledged reply is missing")
    need(result["replies stored twice"] == 0, "a reply was stored twice")
    need(
        result["clocks breached"] == result["clocks due in the run"], "a clock due in the run did not breach"
    )
    need(result["breaches recorded twice"] == 0, "a breach was recorded twice")
    need(result["breach events"] == result["clocks due in the run"], "breach events != clocks")
    need(result["webhooks delivered"] == result["webhook deliveries"], "a webhook was not delivered")
    need(
        result["webhooks received (distinct ids)"] == result["webhook deliveries"],
        "a webhook delivery never reached the receiver",
    )
    need(result["mails sent"] == result["mails"], "a mail was not sent")
    need(result["mails received by the sink"] == result["mails"], "a mail never reached the SMTP sink")
    need(result["mail rows doubled"] == 0, "an acknowledgement was created twice")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--breaches", type=int, default=60)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "cluster")
    args = parser.parse_args(argv)
    import django

    django.setup()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # the SMTP sink's chatter
    result = run(seconds=args.seconds, users=args.users, breaches=args.breaches, out_dir=args.out)
    (args.out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))
    problems = verdict(result)
    print("\nverdict:", "PASS" if not problems else "FAIL: " + "; ".join(problems))
    # Received twice with the same id is at-least-once delivery (a worker killed after the
    # POST, before its commit): receivers dedupe on X-Tandem-Delivery / Message-ID.
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
