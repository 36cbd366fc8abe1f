"""Every configuration write through the API leaves exactly one audit row naming its caller.

The operations come from the OpenAPI schema (the same list the authorization matrix
walks), so a new configuration endpoint is covered, or this test says it is missing."""

import pytest

from audit.models import AuditEntry
from tests.api.test_authorization_matrix import OPERATIONS, allowed, body_for, fresh_record

# collection prefix -> the audit log's model name for it
CONFIGURATION = {
    "/api/v1/teams/": "org.team",
    "/api/v1/services/": "org.service",
    "/api/v1/customers/": "org.customer",
    "/api/v1/sla/calendars/": "sla.calendar",
    "/api/v1/sla/policies/": "sla.policy",
    "/api/v1/boards/": "boards.board",
    "/api/v1/columns/": "boards.column",
    "/api/v1/lanes/": "boards.lane",
    "/api/v1/webhooks/": "webhooks.subscription",
    "/api/v1/mailboxes/": "mail.mailbox",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _model_for(path):
    for prefix, model in CONFIGURATION.items():
        if path.startswith(prefix) and "deliveries" not in path:
            return model
    return None


CONFIG_OPERATIONS = [(m, p) for m, p in OPERATIONS if m in WRITES and _model_for(p)]


def test_the_walk_covers_every_configuration_collection():
    walked = {_model_for(p) for _, p in CONFIG_OPERATIONS}
    present = {
        model for prefix, model in CONFIGURATION.items() if any(p.startswith(prefix) for _, p in OPERATIONS)
    }
    assert walked == present
    assert {"org.team", "sla.policy", "boards.column", "boards.lane", "webhooks.subscription"} <= walked


@pytest.mark.parametrize(
    ("method", "path"), CONFIG_OPERATIONS, ids=[f"{m} {p}" for m, p in CONFIG_OPERATIONS]
)
def test_each_configuration_write_leaves_one_audit_row(
    world, method, path, django_capture_on_commit_callbacks
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    w = world
    who = allowed(method, path)
    caller = "manager" if "manager" in who else sorted(who - {"admin"})[0]
    user = w.users[caller]
    params = fresh_record(w, path) if "{" in path else {}
    url = path.format(**params)
    body = body_for(w, method, path, params)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    before = set(AuditEntry.objects.values_list("pk", flat=True))

    response = getattr(client, method.lower())(url, body, format="json")

    assert 200 <= response.status_code < 300, (method, path, response.status_code, response.content[:300])
    rows = list(AuditEntry.objects.exclude(pk__in=before))
    assert len(rows) == 1, f"{method} {path}: {len(rows)} audit rows: {[(r.model, r.action) for r in rows]}"
    row = rows[0]
    assert row.actor_id == user.pk
    assert row.model == _model_for(path)
    expected_action = {"POST": "created", "DELETE": "deleted"}.get(method, "updated")
    assert row.action == expected_action
    if "id" in params or "team_pk" in params:
        assert row.object_id == str(params.get("id", params.get("team_pk")))
    else:
        assert row.object_id == str(response.json()["id"])
    assert row.changes, "an audit row says what changed"
