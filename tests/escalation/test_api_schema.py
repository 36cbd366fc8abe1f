"""The escalation answers match the published schema field by field (the card, either a
saved one or the one a preview would create, and the sprint impact), not as loose objects."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft7Validator

pytestmark = pytest.mark.django_db


def _nullable_to_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`null` allowed)."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="module")
def components():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return _nullable_to_json_schema({"components": schema["components"]})


def _check(components, body, name="EscalationResult"):
    validator = Draft7Validator({"$ref": f"#/components/schemas/{name}", **components})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_preview_and_escalation_match_the_schema(
    api, engineer_user, tier2_incident, board, active_sprint, components
):
    incident = tier2_incident()
    client = api.as_user(engineer_user)
    preview = client.get(f"/api/v1/incidents/{incident.pk}/escalate-to-development/?estimate=2").json()
    assert preview["sprint_impact"] is not None
    _check(components, preview)
    done = client.post(f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {"estimate": 2}).json()
    _check(components, done)
    # the two card shapes are told apart: a saved card is not a valid preview card and back
    with pytest.raises(AssertionError):
        _check(components, done["card"], "PreviewCard")
    with pytest.raises(AssertionError):
        _check(components, preview["card"], "CardOut")


def test_backlog_escalation_has_no_sprint_impact(api, engineer_user, tier2_incident, board, components):
    incident = tier2_incident(impact="low", urgency="low")  # P4/P5: the backlog, no sprint
    body = (
        api.as_user(engineer_user)
        .post(f"/api/v1/incidents/{incident.pk}/escalate-to-development/", {})
        .json()
    )
    _check(components, body)
