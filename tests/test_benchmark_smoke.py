"""`scripts/benchmark` keeps working: its quick mode runs end to end (seeding every table the
way the services fill them, timing every section) against its own scratch database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql", reason="PostgreSQL"
)
def test_quick_benchmark_runs_end_to_end(tmp_path):
    scratch = f"{settings.DATABASES['default']['NAME']}_benchsmoke"[:60]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(DJANGO_SETTINGS_MODULE="tracker.settings.test", LOG_LEVEL="WARNING")
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "benchmark",
            "--quick",
            "--incidents",  # the quick mode's volumes, smaller: this checks it runs, not how fast
            "4000",
            "--due",
            "50",
            "--no-server",
            "--db",
            scratch,
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # a loaded 2-core machine; the run itself says where the time goes
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["seed"]["incidents"] > 0
    assert "dashboards" in figures and "total run time" in result.stdout
    assert figures["machine"]["cores"] and figures["machine"]["postgresql"]
    assert "machine: " in result.stdout and "PostgreSQL" in result.stdout
    # the deep page is a cursor page (not page 1 with an ignored ?page=), warm and cold rows
    incidents = figures["incidents"]
    deep = next(row for label, row in incidents.items() if label.endswith("(cursor)"))
    assert "cursor=" in deep["url"] and deep["hops"] >= 70  # 4,000 incidents: page 80 of 50 rows
    assert incidents["incident list, cold"]["cold"] and not incidents["incident list"]["cold"]
    assert all(row["runs"] >= figures["min_runs"] for row in incidents.values())
    last_board = figures["boards"][max(figures["boards"], key=int)]
    assert last_board["endpoint cold"]["cold"] and last_board["endpoint"]["p95_ms"] > 0
    # the sweep's own statement moved the due timers; the tick's actions ran in a real worker
    sla = figures["sla"]
    assert sla["statement"]["moved"] == min(sla["due"], 1000) > 0
    tick = sla["tick"]
    assert tick["breaches"] >= figures["volumes"]["due"]
    assert tick["events_handled"] == tick["breaches"] + tick["warnings"] == tick["webhooks"]
    assert tick["mails"] > 0 and tick["seconds"] >= tick["sweep_seconds"]
    # search: the rare word is read from the search vector's index, every term answered
    search = figures["search"]
    assert "incident_search_vector" in search["rare word"]["list_plan"]["indexes"]
    assert all(row["list"]["p95_ms"] > 0 and row["global"]["queries"] > 0 for row in search.values())
    mail = figures["mail"]  # the customer channel's section ran against Dovecot and the sink
    assert mail["ingest_logged"] == mail["ingest_messages"] and mail["ingest_per_second"] > 0
    assert mail["ingest_outcomes"].get("comment") == mail["ingest_replies"]
    assert mail["outbound_received"] == mail["outbound_replies"] and mail["outbound_seconds"] > 0
