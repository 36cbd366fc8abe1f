"""An incident's history has one writer, incidents.history: no other module of any app
creates, updates or inserts IncidentEvent rows (the incidents services and escalation call
history_record; SLA has its own check in test_history.py)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("incidents", "sla", "boards", "sprints", "escalation", "changes", "mail", "customers", "dashboards")
WRITES = re.compile(
    r"(?<!class )IncidentEvent(\(|\.objects\.(create|bulk_create|update|get_or_create)|\._meta\.db_table)"
)


def test_only_incidents_history_writes_incident_events():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path != ROOT / "incidents" / "history.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WRITES.search(line)
    ]
    assert offenders == []
