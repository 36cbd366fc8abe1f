"""PostgreSQL restarted under load: requests fail cleanly while it is away (an error
status, never a hang or a half-written record) and succeed again once it is back, without
restarting Tandem. Uses a separate PostgreSQL instance initdb'd into a temp dir on a spare
port — never the shared cluster."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from benchmarks.server import Gunicorn, production_env

from .helpers import ROOT, free_port, record

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SEED = """
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from accounts.roles import Role
from accounts.models import User
from org.models import Service, Team
from sla.models import BusinessCalendar, SLAPolicy
for name in Role.values if hasattr(Role, "values") else []:
    Group.objects.get_or_create(name=name)
team = Team.objects.create(name="Desk", tier=1)
service = Service.objects.create(name="Payments", support_team=team)
cal = BusinessCalendar.objects.create(name="24x7", timezone="UTC", always_open=True, hours={})
for p in ("P1", "P2", "P3", "P4", "P5"):
    SLAPolicy.objects.create(name=p, priority=p, response_minutes=60, resolution_minutes=240, calendar=cal)
user = User.objects.create_user("loader", password="x-" + "y" * 20)
user.groups.add(Group.objects.get_or_create(name=Role.SERVICE_DESK)[0])
team.members.add(user)
token = Token.objects.create(user=user).key
print("SEED" + __import__("json").dumps({"token": token, "service": service.pk}))
"""
COUNT = """
from incidents.models import Incident
from django.db.models import Count
rows = list(Incident.objects.annotate(n=Count("sla_timers")).values_list("title", "n"))
print("ROWS" + __import__("json").dumps(rows))
"""


def _as_postgres(*cmd, **kw):
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True, capture_output=True, text=True, **kw
    )


class TempPostgres:
    def __init__(self):
        if os.geteuid() != 0 or not (PG_BIN / "initdb").exists():
            pytest.skip("needs root and PostgreSQL 15 binaries to run a private instance")
        self.port = free_port(range(55432, 55440))
        self.dir = Path(tempfile.mkdtemp(prefix="tandem-reliability-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        _as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        _as_postgres(
            PG_BIN / "psql",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "-c",
            "CREATE ROLE tandem LOGIN PASSWORD 'tandem' CREATEDB",
        )
        _as_postgres(
            PG_BIN / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            self.port,
            "-U",
            "postgres",
            "-O",
            "tandem",
            "tandem_benchrel",
        )
        self.url = f"postgres://tandem:tandem@127.0.0.1:{self.port}/tandem_benchrel"

    def start(self):
        _as_postgres(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.dir / "log",
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode="fast"):
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def destroy(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _manage(env, *args, stdin=None):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    ).stdout


@pytest.mark.battery
def test_postgres_restart_under_load_fails_cleanly_and_recovers():
    pg = TempPostgres()
    try:
        port = free_port(range(8392, 8399))
        env = production_env(pg.url, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10"), port)
        _manage(env, "migrate", "--no-input", "-v", "0")
        seeded = json.loads(_manage(env, "shell", stdin=SEED).split("SEED", 1)[1])
        headers = {"Authorization": f"Token {seeded['token']}", "X-Forwarded-Proto": "https"}
        results, stop = [], threading.Event()
        lock = threading.Lock()

        def load():
            s = requests.Session()
            while not stop.is_set():
                title = f"Load {uuid.uuid4().hex[:12]}"
                for kind in ("create", "list"):
                    started = time.monotonic()
                    try:
                        if kind == "create":
                            r = s.post(
                                f"{base}/api/v1/incidents/",
                                headers=headers,
                                timeout=15,
                                json={
                                    "title": title,
                                    "description": "under load",
                                    "impact": "low",
                                    "urgency": "medium",
                                    "service": seeded["service"],
                                },
                            )
                        else:
                            r = s.get(f"{base}/api/v1/incidents/?page_size=20", headers=headers, timeout=15)
                        clean = r.status_code in (200, 201) or (
                            r.status_code == 503
                            and r.headers.get("Content-Type", "").startswith("application/json")
                            and r.json().get("code") == "database_unavailable"
                        )
                        outcome = (r.status_code, not clean)
                    except requests.RequestException as exc:
                        outcome = (type(exc).__name__, False)
                    with lock:
                        results.append(
                            (started, kind, title, outcome[0], outcome[1], time.monotonic() - started)
                        )

        server = Gunicorn(env, port, workers=3)
        with server as base:
            threads = [threading.Thread(target=load) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(5)
            down_at = time.monotonic()
            pg.stop("fast")  # connections of every gunicorn worker are cut
            health_down = requests.get(f"{base}/healthz", timeout=15).status_code
            time.sleep(4)
            pg.start()
            up_at = time.monotonic()
            time.sleep(8)
            stop.set()
            for t in threads:
                t.join()
            health_up = requests.get(f"{base}/healthz", timeout=15).status_code
            never_restarted = server.proc.poll() is None  # the same gunicorn master throughout
        rows = dict(json.loads(_manage(env, "shell", stdin=COUNT).split("ROWS", 1)[1]))
    finally:
        pg.destroy()

    created_ok = [r for r in results if r[1] == "create" and r[3] == 201]
    failures = [r for r in results if r[3] not in (200, 201)]
    # Clean: a JSON 503 {"code": "database_unavailable"}; not: hangs, resets, 500 pages.
    unclean = [r for r in failures if not isinstance(r[3], int) or r[4]]
    after = [r for r in results if r[0] > up_at + 2]
    after_failures = [r for r in after if r[3] not in (200, 201)]
    lost = [r for r in created_ok if r[2] not in rows]
    half_written = [t for t, n in rows.items() if n != 2]
    committed_without_201 = len(rows) - len(created_ok)
    codes = sorted({str(r[3]) for r in failures})
    record(
        "postgresql restarted under load",
        faults=["postgresql stop (fast) under load", "postgresql start"],
        checked=len(created_ok),
        lost=len(lost) + len(half_written),
        notes=f"{len(results)} requests, {len(failures)} failed during the outage with {codes}, "
        f"{len(unclean)} unclean; {len(after)} after recovery, {len(after_failures)} failed; "
        f"healthz down/up {health_down}/{health_up}; {committed_without_201} stored without a 201",
    )
    assert never_restarted
    assert failures, "the outage should have been visible"
    assert all(f[0] >= down_at - 1 for f in failures), "failures only during the outage"
    assert not unclean, unclean[:5]
    assert health_down == 503 and health_up == 200
    assert after and not after_failures, after_failures[:5]
    assert not lost and not half_written
