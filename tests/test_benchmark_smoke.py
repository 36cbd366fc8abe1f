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
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["seed"]["incidents"] > 0
    assert "dashboards" in figures and "total run time" in result.stdout
    # search: the rare word is read from the search vector's index, every term answered
    search = figures["search"]
    assert "incident_search_vector" in search["rare word"]["list_plan"]["indexes"]
    assert all(row["list"]["p95_ms"] > 0 and row["global"]["queries"] > 0 for row in search.values())
    mail = figures["mail"]  # the customer channel's section ran against Dovecot and the sink
    assert mail["ingest_logged"] == mail["ingest_messages"] and mail["ingest_per_second"] > 0
    assert mail["ingest_outcomes"].get("comment") == mail["ingest_replies"]
    assert mail["outbound_received"] == mail["outbound_replies"] and mail["outbound_seconds"] > 0
