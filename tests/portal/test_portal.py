"""The portal's pages and API: who sees what (own, company's, nobody else's — 404), logging a
request with files, replies and their SLA effects, the fence around staff pages, no leak of
internal notes, fixed query counts, article suggestions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Attachment, Incident, Status
from incidents.services import incident_comment, incident_transition
from portal.services import portal_comment
from sla.models import SLATimer, TimerState
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _png(name="screenshot.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _as(client, user):
    client.force_login(user)
    return client


# ------------------------------------------------------------------ who sees what
def test_a_contact_sees_their_own_a_customer_admin_the_company_s(people, portal_incident, client):
    ana_one = portal_incident()
    carl_one = portal_incident(user=people.carl_user, title="Export fails")
    bea_one = portal_incident(user=people.bea_user, title="Contoso's own")
    home = reverse("portal:home") + "?state=all"

    ana_page = _as(client, people.ana_user).get(home).content.decode()
    assert ana_one.key in ana_page and carl_one.key not in ana_page and bea_one.key not in ana_page
    assert client.get(reverse("portal:incident", args=[carl_one.key])).status_code == 404
    assert client.get(reverse("portal:incident", args=[bea_one.key])).status_code == 404

    carl_page = _as(client, people.carl_user).get(home).content.decode()
    assert ana_one.key in carl_page and carl_one.key in carl_page and bea_one.key not in carl_page
    assert client.get(reverse("portal:incident", args=[ana_one.key])).status_code == 200
    assert client.get(reverse("portal:incident", args=[bea_one.key])).status_code == 404

    bea_page = _as(client, people.bea_user).get(home).content.decode()
    assert bea_one.key in bea_page and ana_one.key not in bea_page


def test_a_copied_contact_sees_the_incident(people, log_incident_for_customer):
    from portal.selectors import portal_incident_list

    incident = log_incident_for_customer(cc=[people.ana])
    assert incident in portal_incident_list(user=people.ana_user, state="all")


@pytest.fixture
def log_incident_for_customer(people):
    from incidents.services import incident_create

    def make(**kwargs):
        data = {
            "title": "Staff-logged",
            "service": people.org.service,
            "customer": people.a,
            "requester": people.carl,
        }
        data.update(kwargs)
        return incident_create(actor=people.org.desk, **data)

    return make


def test_api_ids_of_other_customers_are_404_not_403(people, portal_incident, api):
    ana_one = portal_incident()
    api.as_user(people.bea_user)
    for method, path, body in [
        ("get", f"/api/v1/portal/incidents/{ana_one.pk}/", None),
        ("post", f"/api/v1/portal/incidents/{ana_one.pk}/comments/", {"body": "hi"}),
        ("post", f"/api/v1/portal/incidents/{ana_one.pk}/rating/", {"score": 5}),
        ("get", f"/api/v1/portal/incidents/{ana_one.pk + 10_000}/", None),
    ]:
        assert getattr(api, method)(path, body, format="json").status_code == 404, path
    listed = api.get("/api/v1/portal/incidents/").json()
    assert listed["results"] == [] and listed["next"] is None


# ------------------------------------------------------------------ logging a request
def test_log_a_request_with_a_screenshot_in_the_browser(people, client):
    _as(client, people.ana_user)
    response = client.post(
        reverse("portal:new"),
        {
            "type": "service_request",
            "service": people.org.service.pk,
            "title": "Need a new user for Joan",
            "description": "Joan starts on Monday.",
            "attachments": [_png()],
        },
    )
    incident = Incident.objects.get(title="Need a new user for Joan")
    assert response.status_code == 302 and response["Location"] == reverse(
        "portal:incident", args=[incident.key]
    )
    assert incident.key.startswith("REQ-")
    assert incident.requester == people.ana and incident.customer == people.a
    assert incident.reporter is None  # logged by the customer, not by a staff member
    assert incident.team == people.org.service.support_team
    files = list(incident.attachments.all())
    assert [f.name for f in files] == ["screenshot.png"] and files[0].contact == people.ana
    assert SLATimer.objects.filter(incident=incident).exists()  # the SLA hooks ran
    detail = client.get(response["Location"]).content.decode()
    assert "screenshot.png" in detail and "Need a new user for Joan" in detail


def test_bad_input_keeps_what_was_typed_and_writes_nothing(people, client, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    _as(client, people.ana_user)
    response = client.post(
        reverse("portal:new"),
        {
            "type": "incident",
            "service": people.org.service.pk,
            "title": "Big file",
            "description": "see",
            "attachments": [_png()],
        },
    )
    assert response.status_code == 400
    assert "over the limit" in response.content.decode() and 'value="Big file"' in response.content.decode()
    missing = client.post(reverse("portal:new"), {"type": "incident", "title": "", "description": ""})
    assert missing.status_code == 400 and "Give it a short summary." in missing.content.decode()
    assert not Incident.objects.exists() and not Attachment.objects.exists()


def test_api_create_list_detail_comment(people, api):
    api.as_user(people.ana_user)
    created = api.post(
        "/api/v1/portal/incidents/",
        {"title": "Login loops", "description": "Safari only", "service": people.org.service.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key"].startswith("INC-") and body["comments"] == [] and body["fix_forecast"] is None
    assert body["response_due_at"] and body["resolution_due_at"]
    assert body["status_text"].startswith("Received")
    incident = Incident.objects.get(pk=body["id"])
    assert incident.requester == people.ana
    bad = api.post("/api/v1/portal/incidents/", {"title": "", "service": 999999}, format="json")
    assert bad.status_code == 400 and {"title", "service", "description"} <= set(bad.json())
    reply = api.post(
        f"/api/v1/portal/incidents/{incident.pk}/comments/", {"body": "Also on iPad"}, format="json"
    )
    assert reply.status_code == 201 and reply.json()["from_customer"] is True
    detail = api.get(f"/api/v1/portal/incidents/{incident.pk}/").json()
    assert [c["body"] for c in detail["comments"]] == ["Also on iPad"]
    assert detail["comments"][0]["author_name"] == "Ana Lopez"
    assert api.get("/api/v1/portal/incidents/").json()["results"][0]["key"] == incident.key
    assert (
        api.post(
            f"/api/v1/portal/incidents/{incident.pk}/comments/", {"body": " "}, format="json"
        ).status_code
        == 400
    )


# ------------------------------------------------------------------ replies and the SLA
def test_a_reply_on_hold_awaiting_the_customer_resumes_the_clock(people, portal_incident, client):
    incident = portal_incident()
    engineer = people.org.desk
    incident_comment(incident=incident, actor=engineer, body="Which browser?", public=True)
    incident_transition(incident=incident, actor=engineer, status=Status.ON_HOLD, reason="awaiting_customer")
    resolution = SLATimer.objects.get(incident=incident, metric="resolution")
    assert resolution.state == TimerState.PAUSED
    page = _as(client, people.ana_user).get(reverse("portal:incident", args=[incident.key])).content.decode()
    assert "Waiting for your reply" in page and "Which browser?" in page
    response = client.post(
        reverse("portal:incident", args=[incident.key]),
        {"reply-body": "Firefox 130", "reply-attachments": [_png("ff.png")]},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    resolution.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS and resolution.state == TimerState.RUNNING
    comment = incident.comments.get(body="Firefox 130")
    assert comment.public and comment.contact == people.ana and comment.author is None
    assert comment.attachments.get().name == "ff.png"


def test_a_reply_reopens_a_resolved_incident_and_a_closed_one_is_final(people, portal_incident, client):
    incident = portal_incident()
    desk = people.org.desk
    incident_transition(
        incident=incident, actor=desk, status=Status.RESOLVED, resolution_code="fixed", note="Cache cleared"
    )
    portal_comment(user=people.ana_user, incident=incident, body="Still blank for me")
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS
    incident_transition(
        incident=incident, actor=desk, status=Status.RESOLVED, resolution_code="fixed", note="Really"
    )
    incident_transition(incident=incident, actor=desk, status=Status.CLOSED)
    refused = _as(client, people.ana_user).post(
        reverse("portal:incident", args=[incident.key]), {"reply-body": "Hello?"}
    )
    assert refused.status_code == 409 and "Log a new one" in refused.content.decode()
    page = client.get(reverse("portal:incident", args=[incident.key])).content.decode()
    assert "Log a new one" in page and 'name="reply-body"' not in page


# ------------------------------------------------------------------ no leaks
def test_internal_notes_and_their_authors_never_reach_the_portal(
    people, portal_incident, client, api, make_user
):
    from accounts.roles import Role

    incident = portal_incident()
    zed = make_user(
        Role.SUPPORT_ENGINEER, username="zquartermain", first_name="Zebedee", last_name="Quartermain"
    )
    note = incident_comment(
        incident=incident,
        actor=zed,
        body="INTERNAL-7731: customer is on the legacy cluster",
        public=False,
        attachments=[SimpleUploadedFile("internal-dump.txt", b"secret", content_type="text/plain")],
    )
    incident_comment(incident=incident, actor=people.org.desk, body="We are looking into it.", public=True)
    note_file = note.attachments.get()
    secrets = ["INTERNAL-7731", "Zebedee", "Quartermain", "zquartermain", "internal-dump.txt"]

    _as(client, people.ana_user)
    pages = [
        client.get(reverse("portal:home") + "?state=all"),
        client.get(reverse("portal:incident", args=[incident.key])),
    ]
    api.as_user(people.ana_user)
    payloads = [api.get("/api/v1/portal/incidents/"), api.get(f"/api/v1/portal/incidents/{incident.pk}/")]
    for response in pages + payloads:
        assert response.status_code == 200
        text = response.content.decode()
        for secret in secrets:
            assert secret not in text, (secret, response.request["PATH_INFO"])
    assert "We are looking into it." in pages[1].content.decode()
    assert client.get(reverse("portal:attachment", args=[note_file.pk])).status_code == 404
    assert api.get(f"/api/v1/portal/attachments/{note_file.pk}/download/").status_code == 404


def test_files_download_only_to_those_who_see_the_incident(people, portal_incident, client):
    incident = portal_incident(attachments=[_png()])
    shot = incident.attachments.get()
    download = _as(client, people.ana_user).get(reverse("portal:attachment", args=[shot.pk]))
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]
    assert _as(client, people.carl_user).get(reverse("portal:attachment", args=[shot.pk])).status_code == 200
    assert _as(client, people.bea_user).get(reverse("portal:attachment", args=[shot.pk])).status_code == 404


# ------------------------------------------------------------------ the fence
STAFF_PAGES = [
    "/",
    "/incidents/",
    "/incidents/new/",
    "/boards/",
    "/sprints/",
    "/customers/",
    "/dashboards/sla/",
    "/notifications/",
    "/accounts/profile/",
    "/admin/",
    "/knowledge/",
    "/search/?q=x",
]


def test_portal_accounts_reach_no_staff_page_or_endpoint(people, portal_incident, client, api):
    incident = portal_incident()
    _as(client, people.carl_user)
    for path in STAFF_PAGES:
        response = client.get(path)
        if path == "/":
            assert response.status_code == 302 and response["Location"] == reverse("portal:home")
        else:
            assert response.status_code == 403, path
    assert client.get(f"/incidents/{incident.key}/").status_code == 403
    for path in (
        "/api/v1/incidents/",
        f"/api/v1/incidents/{incident.pk}/",
        "/api/v1/contacts/",
        "/api/v1/notifications/",
    ):
        assert client.get(path).status_code == 403, path  # session
        assert api.as_user(people.carl_user).get(path).status_code == 403, path  # token
    assert client.post("/api/v1/incidents/", {"title": "x"}).status_code == 403


def test_staff_and_anonymous_at_the_portal(people, client, api):
    login = reverse("portal:login")
    assert client.get(reverse("portal:home"))["Location"].startswith(login)
    assert client.get(reverse("portal:new"))["Location"].startswith(login)
    _as(client, people.org.manager)
    page = client.get(reverse("portal:home"))
    assert page.status_code == 403 and "for our customers" in page.content.decode()
    assert api.as_user(people.org.manager).get("/api/v1/portal/incidents/").status_code == 403
    assert api.as_user(people.org.admin).get("/api/v1/portal/incidents/").status_code == 403
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/portal/incidents/").status_code == 401
    # a staff member keeps signing in at the staff page as before
    client.logout()
    assert (
        client.post(reverse("accounts:login"), {"username": "desk", "password": PASSWORD}).status_code == 302
    )


# ------------------------------------------------------------------ query counts
def test_portal_list_queries_do_not_grow(people, portal_incident, client, api):
    portal_incident()
    _as(client, people.carl_user)
    api.as_user(people.carl_user)
    with CaptureQueriesContext(connection) as small_page:
        assert client.get(reverse("portal:home")).status_code == 200
    with CaptureQueriesContext(connection) as small_api:
        assert api.get("/api/v1/portal/incidents/").status_code == 200
    for n in range(8):
        portal_incident(title=f"Another {n}", user=people.ana_user if n % 2 else people.carl_user)
    with CaptureQueriesContext(connection) as large_page:
        page = client.get(reverse("portal:home"))
    with CaptureQueriesContext(connection) as large_api:
        listed = api.get("/api/v1/portal/incidents/").json()
    assert page.content.decode().count('class="p-item"') == 9 and len(listed["results"]) == 9
    assert len(large_page) == len(small_page)
    assert len(large_api) == len(small_api)


def test_portal_detail_queries_do_not_grow_with_the_conversation(people, portal_incident, client):
    incident = portal_incident(attachments=[_png()])
    incident_comment(incident=incident, actor=people.org.desk, body="First", public=True)
    url = reverse("portal:incident", args=[incident.key])
    _as(client, people.ana_user)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for n in range(6):
        incident_comment(
            incident=incident,
            actor=people.org.desk,
            body=f"Reply {n}",
            public=True,
            attachments=[_png(f"r{n}.png")],
        )
        portal_comment(user=people.ana_user, incident=incident, body=f"Answer {n}")
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    assert "Reply 5" in page.content.decode() and "r5.png" in page.content.decode()
    assert len(large) == len(small)


# ------------------------------------------------------------------ suggestions
def test_public_articles_are_suggested_never_internal_ones(people, client):
    from knowledge.services import article_create

    article_create(
        actor=people.org.desk,
        title="Invoices page blank after upgrade",
        body="Clear the cache.",
        visibility="public",
    )
    article_create(
        actor=people.org.desk,
        title="Invoices internal runbook",
        body="Restart node 3.",
        visibility="internal",
    )
    _as(client, people.ana_user)
    fragment = client.get(
        reverse("portal:suggest"), {"title": "invoices page blank", "description": ""}
    ).content.decode()
    assert "Invoices page blank after upgrade" in fragment and "internal runbook" not in fragment
    assert client.get(reverse("portal:suggest"), {"title": "zzqx"}).content.decode().strip() == ""
    public = client.get(fragment.split('href="')[1].split('"')[0])
    assert public.status_code == 200 and "Clear the cache." in public.content.decode()


def test_staff_see_the_portal_request_and_the_reply_as_the_customer_s(people, portal_incident, client, api):
    incident = portal_incident(attachments=[_png()])
    portal_comment(user=people.ana_user, incident=incident, body="Any news?")
    page = _as(client, people.org.desk).get(f"/incidents/{incident.key}/").content.decode()
    assert "Any news?" in page and "Ana Lopez" in page
    files = (
        api.as_user(people.org.desk).get(f"/api/v1/incidents/{incident.pk}/attachments/").json()["results"]
    )
    assert [f["name"] for f in files] == ["screenshot.png"]
    comments = (
        api.as_user(people.org.desk).get(f"/api/v1/incidents/{incident.pk}/comments/").json()["results"]
    )
    assert [(c["body"], c["contact"], c["author"], c["public"]) for c in comments] == [
        ("Any news?", people.ana.pk, None, True)
    ]


def test_the_customer_admin_flag_over_the_api(people, portal_incident, api):
    other = portal_incident(user=people.carl_user, title="Carl's")
    api.as_user(people.org.desk)
    assert (
        api.patch(
            f"/api/v1/contacts/{people.ana.pk}/", {"is_customer_admin": True}, format="json"
        ).status_code
        == 200
    )
    assert api.get(f"/api/v1/contacts/{people.ana.pk}/").json()["is_customer_admin"] is True
    keys = [r["key"] for r in api.as_user(people.ana_user).get("/api/v1/portal/incidents/").json()["results"]]
    assert other.key in keys
