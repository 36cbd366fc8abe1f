"""One mapping of a service's refusal (issue 15): tracker.exceptions.status_for is the status
rule the API's exception handler and the browser's form helper share, and a page refusing a
form answers with the code the API gives for the same refusal."""

from datetime import timedelta

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from boards.models import ColumnCategory
from incidents import services as incident_services
from sla.forms import CalendarForm
from sprints import services as sprint_services
from sprints.models import Sprint, SprintState
from tests.boards.factories import BoardFactory, CardFactory, column_of, lane_of
from tests.factories import DevTeamFactory, ServiceFactory, TeamFactory, UserFactory
from tests.sla.factories import CalendarFactory, PolicyFactory
from tracker.api.exceptions import exception_handler
from tracker.exceptions import DomainError, StaleObject, TransitionNotAllowed, WipLimitExceeded, status_for
from tracker.forms import add_service_error, message_service_error, service_error_text


# ------------------------------------------------------------------ the status rule
@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ValidationError("Bad."), 400),
        (ValidationError({"title": ["A title."]}), 400),
        (TransitionNotAllowed("Not from new."), 409),
        (WipLimitExceeded("At its limit."), 409),
        (StaleObject("Changed by someone else."), 409),
        (sprint_services.ConfirmationRequired("Confirm first."), 409),
        (DomainError("Refused."), 409),
        (PermissionDenied("No."), 403),
        (ValueError("a bug, not a refusal"), None),
    ],
)
def test_status_for_each_refusal_and_the_api_handler_agrees(exc, status):
    assert status_for(exc) == status
    response = exception_handler(exc, {})
    if status is None:
        assert response is None  # not a refusal: DRF (then Django) deals with it as an error
    else:
        assert response.status_code == status


# ------------------------------------------------------------------ the form helper
class _Form(forms.Form):
    title = forms.CharField()
    override_reason = forms.CharField(required=False)


def _bound():
    form = _Form({"title": "typed"})
    assert form.is_valid()
    return form


def test_field_errors_go_next_to_the_field_the_rest_at_the_top():
    form = _bound()
    exc = ValidationError({"title": ["Too short."], "__all__": ["Whole form."], "board": ["Elsewhere."]})
    assert add_service_error(form, exc) == 400
    assert form.errors["title"] == ["Too short."]
    # the form has no `board` field: its message is not lost, it goes at the top
    assert form.non_field_errors() == ["Whole form.", "Elsewhere."]
    assert form["title"].value() == "typed"  # what the user typed stays


def test_plain_validation_error_and_domain_errors_go_at_the_top():
    form = _bound()
    assert add_service_error(form, ValidationError(["One.", "Two."])) == 400
    assert form.non_field_errors() == ["One.", "Two."]
    form = _bound()
    assert add_service_error(form, TransitionNotAllowed("Not from new.")) == 409
    assert form.non_field_errors() == ["Not from new."] and "title" not in form.errors


def test_a_page_can_place_a_domain_error_next_to_the_field_that_answers_it():
    form = _bound()
    status = add_service_error(
        form, WipLimitExceeded("At its limit."), fields={"wip_limit_exceeded": "override_reason"}
    )
    assert status == 409 and form.errors["override_reason"] == ["At its limit."]
    form = _bound()
    add_service_error(form, StaleObject("Changed."), fields={"wip_limit_exceeded": "override_reason"})
    assert form.non_field_errors() == ["Changed."]


def test_a_form_maps_service_field_names_onto_its_own():
    """The SLA calendar form has one hours field per weekday; the service names `hours`."""
    form = CalendarForm({"name": "Ops", "timezone": "UTC"})
    form.is_valid()
    add_service_error(form, ValidationError({"hours": ["wed: 17:00 ends before 09:00."]}))
    assert form.errors["hours_wed"] == ["wed: 17:00 ends before 09:00."]


def test_anything_but_a_refusal_is_raised_again():
    with pytest.raises(KeyError):
        add_service_error(_bound(), KeyError("bug"))


def test_flash_message_helper(rf: RequestFactory):
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    exc = ValidationError({"title": ["A title."], "__all__": ["Not now."]})
    assert message_service_error(request, exc) == 400
    assert message_service_error(request, TransitionNotAllowed("Already blocked.")) == 409
    assert [str(m) for m in get_messages(request)] == ["title: A title.; Not now.", "Already blocked."]
    assert service_error_text(PermissionDenied()) == "You may not do that."


# ------------------------------------------------------------------ pages and the API agree
@pytest.fixture
def api_as(api):
    def as_(user):
        return api.as_user(user)

    return as_


def test_incidents_refused_transition_is_409_on_the_page_and_in_the_api(client, api_as, db):
    desk = UserFactory(roles=[Role.SERVICE_DESK])
    service = ServiceFactory(support_team=TeamFactory(tier=1, members=[desk]))
    incident = incident_services.incident_create(
        actor=desk, title="Checkout 502", service=service, impact="high", urgency="medium", description="x"
    )
    client.force_login(desk)
    page = client.post(reverse("incidents:action", kwargs={"key": incident.key, "name": "close"}), {})
    url = f"/api/v1/incidents/{incident.pk}/transition/"
    api = api_as(desk).post(url, {"status": "closed"}, format="json")
    assert page.status_code == api.status_code == 409  # the page answered 400 before
    assert "Allowed next states" in page.content.decode()


def test_boards_card_refused_for_wip_is_409_on_the_page_and_in_the_api(client, api_as, db):
    developer = UserFactory(roles=[Role.DEVELOPER])
    board = BoardFactory(columns__wip={ColumnCategory.READY: (None, 1)})
    ready, lane = column_of(board, ColumnCategory.READY), lane_of(board)
    CardFactory(board=board, column=ready, lane=lane)
    client.force_login(developer)
    page = client.post(
        reverse("boards:card_create", args=[board.pk]),
        {"title": "One more", "type": "story", "column": ready.pk, "lane": lane.pk},
    )
    api = api_as(developer).post(
        "/api/v1/cards/",
        {"board": board.pk, "title": "One more", "type": "story", "column": ready.pk, "lane": lane.pk},
        format="json",
    )
    assert page.status_code == api.status_code == 409  # the page answered 400 before
    html = page.content.decode()
    assert "WIP limit" in html and 'value="One more"' in html
    assert board.cards.count() == 1


def test_sprints_edit_of_a_closed_sprint_is_409_on_the_page_and_in_the_api(client, api_as, db):
    po = UserFactory(roles=[Role.PRODUCT_OWNER])
    team = DevTeamFactory()
    start = timezone.localdate() - timedelta(days=20)
    sprint = sprint_services.sprint_create(
        team=team, name="Sprint 1", start=start, end=start + timedelta(days=9), actor=po
    )
    Sprint.objects.filter(pk=sprint.pk).update(state=SprintState.CLOSED)
    client.force_login(po)
    page = client.post(
        reverse("sprints:edit", args=[sprint.pk]),
        {"name": "Renamed", "start": sprint.start.isoformat(), "end": sprint.end.isoformat()},
    )
    api = api_as(po).patch(f"/api/v1/sprints/{sprint.pk}/", {"name": "Renamed"}, format="json")
    assert page.status_code == api.status_code == 409  # the page answered 200 before
    html = page.content.decode()
    assert "can no longer be edited" in html and 'value="Renamed"' in html
    sprint.refresh_from_db()
    assert sprint.name == "Sprint 1"


def test_sla_policy_refused_is_400_on_the_page_and_in_the_api(client, api_as, db):
    manager = UserFactory(roles=[Role.MANAGER])
    policy = PolicyFactory(
        calendar=CalendarFactory(), priority="P3", response_minutes=120, resolution_minutes=960
    )
    client.force_login(manager)
    page = client.post(
        reverse("sla:policy_edit", args=[policy.pk]),
        {
            "name": policy.name,
            "priority": "P3",
            "calendar": policy.calendar_id,
            "response_minutes": 120,
            "resolution_minutes": 30,
            "warn_percent": 80,
            "active": "on",
        },
    )
    api = api_as(manager).patch(
        f"/api/v1/sla/policies/{policy.pk}/", {"resolution_minutes": 30}, format="json"
    )
    assert page.status_code == api.status_code == 400  # the page answered 200 before
    assert "resolution_minutes" in page.context["form"].errors and "resolution_minutes" in api.json()


def test_changes_emergency_without_justification_is_400_on_the_page_and_in_the_api(client, api_as, db):
    engineer = UserFactory(roles=[Role.SUPPORT_ENGINEER])
    team = DevTeamFactory()
    body = {"title": "Kill switch", "kind": "emergency", "source": "support", "team": team.pk}
    client.force_login(engineer)
    page = client.post(reverse("changes:create"), {**body, "justification": ""})
    api = api_as(engineer).post("/api/v1/change-requests/", {**body, "justification": ""}, format="json")
    assert page.status_code == api.status_code == 400  # the page answered 200 before
    assert "needs a justification" in page.content.decode()
