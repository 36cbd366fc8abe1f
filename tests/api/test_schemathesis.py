"""Property-based testing of the whole API from its own OpenAPI schema (Schemathesis).

A real HTTP server (pytest-django's live server on 127.0.0.1, on the test database seeded
with the demo data) is called as a superuser with a token, for every operation in the
schema, with valid and invalid inputs. Path ids are drawn half from records that exist and
half at random, so the interesting paths (found records, state changes) run as well as the
404s. Every response must be free of server errors and match the schema: documented status
code, content type and body shape.

`SCHEMATHESIS_EXAMPLES` (default 4; raise it for a deeper run) sets examples per operation
and generation mode.
"""

import logging
import os
import re
import time
from pathlib import Path

import requests
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))


class ServerErrors(logging.Handler):
    """Keeps the tracebacks Django logs for 500s, to show what broke."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


def _existing_ids(session, base, template):
    """Ids of records the collection before `{` lists (e.g. /api/v1/incidents/ for
    /api/v1/incidents/{id}/transition/), discovered through the API itself."""
    prefix = template.split("{", 1)[0]
    if prefix.count("{") or not prefix.endswith("/"):
        return []
    response = session.get(f"{base}{prefix}", params={"page_size": 20})
    if response.status_code != 200:
        return []
    body = response.json()
    rows = body.get("results", []) if isinstance(body, dict) else body
    return [row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)]


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def _fuzz(operation, strategies, session, base, headers, checks, failures) -> int:
    """Run the examples of one operation; failures are collected, not raised, so one run
    reports every broken operation. Returns the number of cases sent."""
    from schemathesis.core.failures import FailureGroup

    sent = []
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=st.one_of(strategies))
    @hypothesis_settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        sent.append(case)
        try:
            case.call_and_validate(session=session, base_url=base, headers=headers, checks=checks)
        except (FailureGroup, AssertionError) as exc:
            failures.append(f"{label}: {str(exc)[:1500]}")

    run()
    return len(sent)


def test_every_operation_against_a_live_server(live_server, transactional_db, settings):
    import schemathesis
    from schemathesis import GenerationMode

    from accounts.models import User

    settings.API_THROTTLE_RATE = "1000000/min"  # the per-user limit has its own test
    started = time.monotonic()
    call_command("seed_demo", verbosity=0)
    admin = User.objects.filter(is_superuser=True).first()
    token = Token.objects.get_or_create(user=admin)[0].key
    headers = {"Authorization": f"Token {token}"}
    base = live_server.url
    session = requests.Session()
    session.headers.update(headers)

    schema = schemathesis.openapi.from_url(f"{base}/api/v1/schema/?format=json", headers=headers)
    checks = _checks()
    errors = ServerErrors()
    request_log = logging.getLogger("django.request")
    request_log.addHandler(errors)
    level, request_log.level = request_log.level, logging.ERROR  # thousands of expected 4xx lines

    operations, cases, failures = [], 0, []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            operations.append(f"{operation.method.upper()} {operation.path}")
            ids = _existing_ids(session, base, operation.path)
            names = re.findall(r"{(\w+)}", operation.path)
            strategies = [
                operation.as_strategy(),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            ]
            if ids and names == ["id"]:
                strategies += [operation.as_strategy(path_parameters={"id": pk}) for pk in ids[:4]]
                strategies += [
                    operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters={"id": pk})
                    for pk in ids[:2]
                ]
            cases += _fuzz(operation, strategies, session, base, headers, checks, failures)
    finally:
        request_log.removeHandler(errors)
        request_log.setLevel(level)

    elapsed = time.monotonic() - started
    report = Path(__file__).resolve().parents[1] / "artifacts" / "schemathesis-report.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n\n".join(["\n".join(operations), *failures, *errors.records]))
    print(
        f"\nSchemathesis: {len(operations)} operations, {cases} cases, {len(failures)} failures, "
        f"{len(errors.records)} server errors logged, {elapsed:.0f} s"
    )
    assert len(operations) >= 60
    assert not errors.records, "\n\n".join(errors.records[:5])
    assert not failures, "\n\n".join(failures[:10])
