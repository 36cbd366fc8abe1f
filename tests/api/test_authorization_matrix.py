"""Authorization matrix: every operation of the API × every kind of caller.

The operations come from the generated OpenAPI schema, and the schema is checked against
the URLconf, so a new endpoint cannot be left out: it fails here until POLICY says who may
use it. Each operation gets fresh records and a valid body, so a refusal has to come from the
permission check, not from bad input. Callers run least-privileged first; then

- no caller outside the allowed set gets a 2xx;
- no allowed caller gets 401/403 (the API grants what the browser grants);
- some allowed caller gets a 2xx (the body and records really exercise the operation).
"""

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from accounts.roles import Role
from boards.models import ColumnCategory, ReasonCode, ReasonKind, Release
from changes.services import change_request_create
from incidents import services as incident_services
from knowledge.services import article_archive, article_create
from mail.inbound import inbound_process
from mail.models import Mailbox
from org.models import Customer
from org.services import contact_activate, contact_create, contact_invite, invitation_token
from problems.models import ProblemIncident
from problems.services import problem_create
from sla.models import BusinessCalendar, SLAPolicy
from sprints.services import sprint_create, sprint_start
from tests.boards.factories import BoardFactory, CardFactory, column_of
from tests.factories import PASSWORD, DevTeamFactory, ServiceFactory, TeamFactory, UserFactory
from webhooks.models import Delivery, Subscription

# The portal's three kinds of account (SPEC §15): a contact of customer A (the requester of
# the records below), a customer admin of A, a contact of customer B.
CONTACTS = ["contact_a", "admin_a", "contact_b"]
CALLERS = [
    "anonymous", "norole", "desk", "developer", "po", "other_team", "engineer", "manager", "admin", *CONTACTS,
]  # fmt: skip

STAFF = {"desk", "engineer", "developer", "po", "manager", "admin", "other_team"}
SUPPORT = {"desk", "engineer", "developer", "manager", "admin", "other_team"}
# Work on an incident: its team (the engineer), its assignee, swarm participants, managers.
INCIDENT_WORK = {"engineer", "manager", "admin"}
MANAGERS = {"manager", "admin"}
PLANNERS = {"po", "manager", "admin"}
CARD_WORKERS = {"developer", "po", "manager", "admin"}
# Escalating to development: the rights of escalating the incident (INCIDENT_WORK), held by
# tier 2/3 or a manager; a developer or engineer outside the incident's group may not.
DEV_ESCALATORS = INCIDENT_WORK
# Problem work: support engineers (of any group), developers, managers.
PROBLEM_WORK = {"engineer", "other_team", "developer", "manager", "admin"}
EVERYONE = set(CALLERS)
# Signed-in staff accounts (a portal account is fenced into the portal: portal.middleware).
SIGNED_IN = EVERYONE - {"anonymous"} - set(CONTACTS)
# The portal API: its own records for the contact and their customer admin; another
# customer's contact gets 404 for them (the record does not exist for them).
PORTAL = {"contact_a", "admin_a"}
PORTAL_USERS = set(CONTACTS)

# (method, path) -> who may get a 2xx. GET is open to STAFF unless listed.
POLICY = {
    ("POST", "/api/v1/auth/token/"): EVERYONE,
    # incidents
    ("POST", "/api/v1/incidents/"): SUPPORT,
    ("PATCH", "/api/v1/incidents/{id}/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/transition/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/assign/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/take/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/escalate/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/merge/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/link-cause/"): INCIDENT_WORK,
    ("POST", "/api/v1/incidents/{id}/comments/"): SUPPORT,
    ("POST", "/api/v1/incidents/{id}/attachments/"): SUPPORT,
    ("POST", "/api/v1/incidents/{id}/time/"): SUPPORT,
    ("POST", "/api/v1/incidents/{id}/swarm/join/"): SUPPORT,
    ("POST", "/api/v1/incidents/{id}/swarm/leave/"): SUPPORT,
    ("POST", "/api/v1/incidents/{id}/priority/"): MANAGERS,
    ("POST", "/api/v1/incidents/{id}/declare-major/"): MANAGERS,
    ("GET", "/api/v1/incidents/{id}/escalate-to-development/"): DEV_ESCALATORS,
    ("POST", "/api/v1/incidents/{id}/escalate-to-development/"): DEV_ESCALATORS,
    # one's own notifications
    ("GET", "/api/v1/notifications/"): SIGNED_IN,
    ("POST", "/api/v1/notifications/read/"): SIGNED_IN,
    # reports (dashboards.permissions): SLA metrics for managers, like the SLA dashboards
    ("GET", "/api/v1/metrics/sla/"): MANAGERS,
    # the configuration audit log
    ("GET", "/api/v1/audit-log/"): MANAGERS,
    # boards
    ("POST", "/api/v1/boards/"): PLANNERS,
    ("PATCH", "/api/v1/boards/{id}/"): PLANNERS,
    ("POST", "/api/v1/columns/"): PLANNERS,
    ("PATCH", "/api/v1/columns/{id}/"): PLANNERS,
    ("POST", "/api/v1/lanes/"): PLANNERS,
    ("PATCH", "/api/v1/lanes/{id}/"): PLANNERS,
    ("POST", "/api/v1/cards/"): CARD_WORKERS,
    ("PATCH", "/api/v1/cards/{id}/"): CARD_WORKERS,
    ("POST", "/api/v1/cards/{id}/move/"): CARD_WORKERS,
    ("POST", "/api/v1/cards/{id}/pull/"): CARD_WORKERS,
    ("POST", "/api/v1/cards/{id}/block/"): CARD_WORKERS,
    ("POST", "/api/v1/cards/{id}/unblock/"): CARD_WORKERS,
    ("POST", "/api/v1/cards/{id}/cancel/"): CARD_WORKERS,
    ("POST", "/api/v1/releases/"): CARD_WORKERS,
    ("POST", "/api/v1/releases/{id}/deploy/"): CARD_WORKERS,
    # sprints
    ("POST", "/api/v1/sprints/"): PLANNERS,
    ("PATCH", "/api/v1/sprints/{id}/"): PLANNERS,
    ("POST", "/api/v1/sprints/{id}/start/"): PLANNERS,
    ("POST", "/api/v1/sprints/{id}/close/"): PLANNERS,
    # the member row is the developer's own availability
    ("PATCH", "/api/v1/sprints/{sprint_pk}/members/{id}/"): PLANNERS | {"developer"},
    # a development team's support rotation: its planners set the order
    ("PUT", "/api/v1/teams/{team_pk}/rotation/"): PLANNERS,
    # contacts at customers: whoever logs incidents keeps them (org.permissions)
    ("POST", "/api/v1/contacts/"): SUPPORT,
    ("PATCH", "/api/v1/contacts/{id}/"): SUPPORT,
    ("POST", "/api/v1/contacts/{id}/invite/"): SUPPORT,
    # the customer portal: portal accounts only (staff get 403, another customer's contact 404)
    ("GET", "/api/v1/portal/incidents/"): PORTAL_USERS,
    ("POST", "/api/v1/portal/incidents/"): PORTAL_USERS,
    ("GET", "/api/v1/portal/incidents/{id}/"): PORTAL,
    ("POST", "/api/v1/portal/incidents/{id}/comments/"): PORTAL,
    # the requester rates (the customer admin's attempt is refused with 409, not 403)
    ("POST", "/api/v1/portal/incidents/{id}/rating/"): PORTAL,
    ("GET", "/api/v1/portal/attachments/{id}/download/"): PORTAL,
    # the customer channel's mail: managers
    ("GET", "/api/v1/mailboxes/"): MANAGERS,
    ("GET", "/api/v1/mailboxes/{id}/"): MANAGERS,
    ("POST", "/api/v1/mailboxes/"): MANAGERS,
    ("PATCH", "/api/v1/mailboxes/{id}/"): MANAGERS,
    ("GET", "/api/v1/mail-log/"): MANAGERS,
    ("GET", "/api/v1/mail-log/{id}/"): MANAGERS,
    ("POST", "/api/v1/mail-log/{id}/retry/"): MANAGERS,
    # change requests
    ("POST", "/api/v1/change-requests/"): STAFF,
    ("POST", "/api/v1/change-requests/{id}/triage/"): PLANNERS,
    # the knowledge base (knowledge.permissions): staff read; support roles and managers
    # write; an article's author (the desk wrote the matrix's articles) or a manager archives
    # problems (problems.permissions): support opens and links, problem work edits, tier 2/3
    # and managers escalate to development
    ("POST", "/api/v1/problems/"): SUPPORT,
    ("PATCH", "/api/v1/problems/{id}/"): PROBLEM_WORK,
    ("POST", "/api/v1/problems/{id}/transition/"): PROBLEM_WORK,
    ("POST", "/api/v1/problems/{id}/link/"): SUPPORT,
    ("POST", "/api/v1/problems/{id}/unlink/"): SUPPORT,
    ("POST", "/api/v1/problems/{id}/resolve-incidents/"): PROBLEM_WORK,
    ("GET", "/api/v1/problems/{id}/escalate-to-development/"): PROBLEM_WORK,
    ("POST", "/api/v1/problems/{id}/escalate-to-development/"): PROBLEM_WORK,
    ("POST", "/api/v1/articles/"): SUPPORT,
    ("PATCH", "/api/v1/articles/{id}/"): SUPPORT,
    ("POST", "/api/v1/articles/{id}/archive/"): MANAGERS | {"desk"},
    ("POST", "/api/v1/articles/{id}/restore/"): MANAGERS | {"desk"},
}
# Organisation, SLA settings: staff read, managers write. Webhooks: managers only.
for _collection in ("teams", "services", "customers", "sla/calendars", "sla/policies"):
    for _method in ("POST",):
        POLICY[(_method, f"/api/v1/{_collection}/")] = MANAGERS
    for _method in ("PUT", "PATCH", "DELETE"):
        POLICY[(_method, f"/api/v1/{_collection}/{{id}}/")] = MANAGERS
# The desk: bulk actions for the roles that work incidents (each incident is then checked by
# its own predicate: refusals are in the 200's body); saved views for all staff. The record
# is a view the engineer shared with their team: its members and managers read and change
# it; to anyone else it does not exist (404, in HIDDEN_FROM_OTHERS).
SAVED_VIEW = "/api/v1/saved-views/{id}/"
VIEW_READERS = {"engineer", "manager", "admin"}
POLICY.update({(method, SAVED_VIEW): VIEW_READERS for method in ("GET", "PATCH", "DELETE")})
POLICY[("POST", "/api/v1/saved-views/")] = STAFF
POLICY[("POST", "/api/v1/incidents/bulk/")] = SUPPORT


def allowed(method, path):
    if path.startswith("/api/v1/webhooks/"):
        return MANAGERS
    if (method, path) in POLICY:
        return POLICY[(method, path)]
    if method == "GET":
        return STAFF
    raise AssertionError(f"{method} {path} has no entry in POLICY: say who may use it")


# Operations whose success depends on the record's state, so a 2xx may legitimately not
# happen for anyone with the fixed records below; they are still checked for refusals.
STATE_DEPENDENT = {
    ("DELETE", "/api/v1/sla/calendars/{id}/"),
    ("DELETE", "/api/v1/sla/policies/{id}/"),
    # Multipart uploads: the matrix posts JSON (a 415), so only refusals are checked here;
    # tests/channel/test_attachments.py uploads real files.
    ("POST", "/api/v1/incidents/{id}/attachments/"),
}
# A file's existence is not disclosed to those who may not see its incident: 404, not 403.
HIDDEN_FROM_OTHERS = {"/api/v1/attachments/{id}/download/", "/api/v1/attachments/{id}/preview/", SAVED_VIEW}


def expected_refusal(caller, path):
    """The status a caller outside the allowed set gets."""
    if caller == "anonymous":
        return 401
    if path.startswith("/api/v1/portal/"):
        # staff are not portal users (403); a portal record of another customer is a 404
        return 404 if caller in PORTAL_USERS and "{id}" in path else 403
    if caller in PORTAL_USERS:
        return 403  # the fence: staff endpoints refuse portal accounts, whatever the record
    return 404 if path in HIDDEN_FROM_OTHERS else 403


# ------------------------------------------------------------------ the world
@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group

    for role in Role.values:  # a transactional test before this one may have flushed them
        Group.objects.get_or_create(name=role)
    users = {
        "norole": UserFactory(username="norole"),
        "desk": UserFactory(username="desk", roles=[Role.SERVICE_DESK]),
        "engineer": UserFactory(username="engineer", roles=[Role.SUPPORT_ENGINEER]),
        "other_team": UserFactory(username="other", roles=[Role.SUPPORT_ENGINEER]),
        "developer": UserFactory(username="developer", roles=[Role.DEVELOPER]),
        "po": UserFactory(username="po", roles=[Role.PRODUCT_OWNER]),
        "manager": UserFactory(username="manager", roles=[Role.MANAGER]),
        "admin": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    desk_team = TeamFactory(name="Desk", tier=1, members=[users["desk"]])
    support = TeamFactory(name="App Support", tier=2, members=[users["engineer"]])
    other = TeamFactory(name="Other Support", tier=2, members=[users["other_team"]])
    dev = DevTeamFactory(name="Dev", members=[users["developer"]])
    service = ServiceFactory(name="Payments", support_team=support, team=dev)
    swarm = ServiceFactory(name="Reporting", support_team=support, team=dev, support_model="swarm")
    board = BoardFactory(name="Dev board", key_prefix="DEV")
    board.teams.add(dev)
    ReasonCode.objects.get_or_create(kind=ReasonKind.BLOCK, code="waiting", defaults={"label": "Waiting"})
    calendar = BusinessCalendar.objects.create(name="24x7", timezone="UTC", always_open=True)
    customer_a = Customer.objects.create(name="Portal customer A")
    customer_b = Customer.objects.create(name="Portal customer B")
    contacts = {
        "contact_a": contact_create(customer=customer_a, name="Ana A", email="ana@a.example"),
        "admin_a": contact_create(
            customer=customer_a, name="Carl A", email="carl@a.example", is_customer_admin=True
        ),
        "contact_b": contact_create(customer=customer_b, name="Bea B", email="bea@b.example"),
    }
    for name, contact in contacts.items():
        token = invitation_token(contact_invite(contact=contact, actor=users["desk"]))
        users[name] = contact_activate(token=token, password=PASSWORD)
    return SimpleNamespace(
        contacts=contacts,
        users=users,
        desk_team=desk_team,
        support=support,
        other=other,
        dev=dev,
        service=service,
        swarm=swarm,
        board=board,
        calendar=calendar,
        n=iter(range(1, 10_000)),
    )


def _incident(w, service=None):
    return incident_services.incident_create(
        actor=w.users["desk"],
        title=f"Checkout down {next(w.n)}",
        service=service or w.service,
        impact="low",
        urgency="low",
    )


def _sprint(w):
    start = date(2026, 12, 7) + timedelta(days=14 * next(w.n))  # sprints of a team may not overlap
    return sprint_create(
        team=w.dev,
        name=f"Sprint {start}",
        actor=w.users["po"],
        board=w.board,
        start=start,
        end=start + timedelta(days=11),
    )


def _portal_incident(w, *, resolved=False):
    """An incident contact_a logged in the portal (customer A's)."""
    from portal.services import portal_incident_create

    incident = portal_incident_create(
        user=w.users["contact_a"], title=f"Portal {next(w.n)}", description="Blank page", service=w.service
    )
    if resolved:
        incident_services.incident_transition(
            incident=incident,
            actor=w.users["manager"],
            status="resolved",
            resolution_code="fixed",
            note="Done",
        )
    return incident


def fresh_record(w, path):
    """A new record of the kind `path` names, and any other path parameters."""
    collection = path.removeprefix("/api/v1/").split("/{", 1)[0]
    n = next(w.n)
    if collection == "portal/incidents":
        return {"id": _portal_incident(w, resolved=path.endswith("/rating/")).pk}
    if collection == "portal/attachments":
        from django.core.files.uploadedfile import SimpleUploadedFile

        png = SimpleUploadedFile(f"p{n}.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32, content_type="image/png")
        from portal.services import portal_incident_create

        incident = portal_incident_create(
            user=w.users["contact_a"],
            title=f"Shot {n}",
            description="See",
            service=w.service,
            attachments=[png],
        )
        return {"id": incident.attachments.get().pk}
    if collection == "attachments":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from incidents.attachments import attachment_create

        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
        upload = SimpleUploadedFile(f"shot{n}.png", png, content_type="image/png")
        return {"id": attachment_create(incident=_incident(w), upload=upload).pk}
    if collection == "saved-views":
        from desk.services import saved_view_create

        view = saved_view_create(actor=w.users["engineer"], name=f"Matrix view {n}", query={}, team=w.support)
        return {"id": view.pk}
    if collection == "incidents" and "/swarm/" in path:
        return {"id": _incident(w, service=w.swarm).pk}
    if collection == "incidents":
        return {"id": _incident(w).pk}
    if collection == "cards" and path.endswith("/pull/"):
        return {"id": CardFactory(board=w.board, column=column_of(w.board, ColumnCategory.READY)).pk}
    if collection == "cards" and path.endswith("/unblock/"):
        return {"id": CardFactory(board=w.board, blocked=True).pk}
    if collection == "cards":
        return {"id": CardFactory(board=w.board).pk}
    if collection == "boards":
        return {"id": w.board.pk}
    if collection == "columns":
        return {"id": w.board.columns.first().pk}
    if collection == "lanes":
        return {"id": w.board.lanes.first().pk}
    if collection == "releases":
        return {"id": Release.objects.create(board=w.board, name=f"R{n}").pk}
    if collection == "teams" and "{team_pk}" in path:
        w.dev.members.add(UserFactory(username=f"rota{n}"))  # an order of two can change
        return {"team_pk": w.dev.pk}
    if collection == "teams":
        return {"id": TeamFactory(name=f"Spare team {n}").pk}
    if collection == "services":
        return {"id": ServiceFactory(name=f"Spare service {n}", support_team=w.support, team=w.dev).pk}
    if collection == "customers":
        return {"id": Customer.objects.create(name=f"Customer {n}").pk}
    if collection == "mailboxes":
        box = Mailbox.objects.create(
            name=f"Box {n}", address=f"box{n}@tandem.example", default_service=w.service
        )
        return {"id": box.pk}
    if collection == "mail-log":
        box = Mailbox.objects.create(
            name=f"Log box {n}", address=f"log{n}@tandem.example", default_service=w.service
        )
        raw = f"From: nobody{n}@nowhere.example\r\nMessage-ID: <m{n}@x.example>\r\n\r\nHi".encode()
        # An unknown sender: failed, and retryable once the mailbox has a default customer.
        row = inbound_process(mailbox=box, imap_key=f"1:{n}", raw=raw)
        box.default_customer = Customer.objects.create(name=f"Mail customer {n}")
        box.save()
        return {"id": row.pk}
    if collection == "contacts":
        customer = Customer.objects.create(name=f"Contact customer {n}")
        return {"id": customer.contacts.create(name=f"Contact {n}", email=f"c{n}@example.org").pk}
    if collection == "sla/calendars":
        return {"id": BusinessCalendar.objects.create(name=f"Cal {n}", timezone="UTC", always_open=True).pk}
    if collection == "sla/policies":
        policy = SLAPolicy.objects.create(
            name=f"Policy {n}",
            priority="P4",
            response_minutes=60,
            resolution_minutes=600,
            calendar=w.calendar,
        )
        return {"id": policy.pk}
    if collection == "sprints":
        sprint = _sprint(w)
        if "members" in path:
            member = sprint.members.get(user=w.users["developer"])
            return {"sprint_pk": sprint.pk, "id": member.pk}
        if path.endswith("/close/"):
            sprint_start(sprint=sprint, actor=w.users["po"], confirm=True)
        return {"id": sprint.pk}
    if collection == "problems":
        problem = problem_create(actor=w.users["engineer"], title=f"Problem {n}", incidents=[_incident(w)])
        return {"id": problem.pk}
    if collection == "articles":
        article = article_create(actor=w.users["desk"], title=f"Article {n}", body="Steps", service=w.service)
        if path.endswith("/restore/"):
            article_archive(article=article, actor=w.users["desk"])
        return {"id": article.pk}
    if collection == "change-requests":
        return {"id": change_request_create(title=f"Change {n}", actor=w.users["po"], team=w.dev).pk}
    if collection == "webhooks/deliveries":
        sub = Subscription.objects.create(url="http://127.0.0.1:9/hook")
        from django.utils import timezone

        delivery = Delivery.objects.create(
            subscription=sub, event="incident.created", payload={}, created_at=timezone.now(), status="failed"
        )
        return {"id": delivery.pk}
    if collection == "webhooks":
        return {"id": Subscription.objects.create(url=f"http://127.0.0.1:9/hook{n}").pk}
    raise AssertionError(f"no records for {path}: add them to fresh_record")


def body_for(w, method, path, params):
    """A valid body for the operation (the same for every caller)."""
    n = next(w.n)
    u = w.users
    linked = None  # the incident of a fresh problem, for unlinking
    if path == "/api/v1/problems/{id}/unlink/":
        linked = ProblemIncident.objects.filter(problem_id=params["id"]).values_list(
            "incident_id", flat=True
        )[0]
    in_progress = column_of(w.board, ColumnCategory.IN_PROGRESS)
    bodies = {
        ("POST", "/api/v1/auth/token/"): {"username": "desk", "password": PASSWORD},
        ("GET", "/api/v1/search/"): {"q": "printer"},  # a GET's body is its query string
        ("POST", "/api/v1/incidents/"): {
            "title": "Printer on fire",
            "service": w.service.pk,
            "impact": "low",
            "urgency": "low",
        },
        ("PATCH", "/api/v1/incidents/{id}/"): {"title": f"Renamed {n}"},
        ("POST", "/api/v1/incidents/bulk/"): {
            "incidents": [_incident(w).pk],
            "action": "note",
            "note": "From the matrix",
        },
        ("POST", "/api/v1/saved-views/"): {"name": f"View {n}", "query": {"priority": "P1"}},
        ("PATCH", "/api/v1/saved-views/{id}/"): {"name": f"View renamed {n}"},
        ("POST", "/api/v1/incidents/{id}/transition/"): {"status": "in_progress"},
        ("POST", "/api/v1/incidents/{id}/assign/"): {"assignee": u["engineer"].pk},
        ("POST", "/api/v1/incidents/{id}/escalate/"): {"team": w.other.pk, "note": "Needs the other team"},
        ("POST", "/api/v1/incidents/{id}/merge/"): {"parent": _incident(w).pk},
        ("POST", "/api/v1/incidents/{id}/link-cause/"): {"card": CardFactory(board=w.board).pk},
        ("POST", "/api/v1/incidents/{id}/comments/"): {"body": "Looking", "public": False},
        ("POST", "/api/v1/portal/incidents/"): {
            "title": "Cannot log in",
            "description": "Since today",
            "service": w.service.pk,
        },
        ("POST", "/api/v1/portal/incidents/{id}/comments/"): {"body": "Any news?"},
        ("POST", "/api/v1/portal/incidents/{id}/rating/"): {"score": 4, "comment": "Thanks"},
        ("POST", "/api/v1/incidents/{id}/time/"): {"minutes": 5},
        ("POST", "/api/v1/incidents/{id}/priority/"): {"priority": "P2", "reason": "Board call"},
        ("POST", "/api/v1/incidents/{id}/declare-major/"): {"note": "Everyone"},
        ("POST", "/api/v1/incidents/{id}/escalate-to-development/"): {"team": w.dev.pk, "note": "Bug"},
        ("POST", "/api/v1/boards/"): {
            "name": f"Board {n}",
            "key_prefix": f"B{n}",
            "teams": [w.dev.pk],
            "columns": [
                {"name": "Todo", "category": "backlog"},
                {"name": "Doing", "category": "in_progress"},
                {"name": "Done", "category": "done"},
            ],
            "lanes": [{"name": "Standard", "kind": "standard"}],
        },
        ("PATCH", "/api/v1/boards/{id}/"): {"name": f"Board renamed {n}"},
        ("GET", "/api/v1/columns/"): {"board": w.board.pk},
        ("POST", "/api/v1/columns/"): {"board": w.board.pk, "name": f"Step {n}", "category": "in_progress"},
        ("PATCH", "/api/v1/columns/{id}/"): {"wip_max": 500},
        ("GET", "/api/v1/lanes/"): {"board": w.board.pk},
        ("POST", "/api/v1/lanes/"): {"board": w.board.pk, "name": f"Lane {n}"},
        ("PATCH", "/api/v1/lanes/{id}/"): {"wip_max": 50},
        ("POST", "/api/v1/cards/"): {"board": w.board.pk, "title": "New card"},
        ("PATCH", "/api/v1/cards/{id}/"): {"title": f"Card {n}"},
        ("POST", "/api/v1/cards/{id}/move/"): {"column": in_progress.pk},
        ("POST", "/api/v1/cards/{id}/block/"): {"reason": "waiting", "note": "vendor"},
        ("POST", "/api/v1/cards/{id}/cancel/"): {"reason": "Not needed"},
        ("POST", "/api/v1/releases/"): {"board": w.board.pk, "name": f"Release {n}"},
        ("POST", "/api/v1/sprints/"): {
            "team": w.dev.pk,
            "name": f"Sprint {n}",
            "start": "2020-01-06",
            "end": "2020-01-17",
        },
        ("PATCH", "/api/v1/sprints/{id}/"): {"goal": "Ship it"},
        # the test sprints start in the future: starting (and closing early) is confirmed
        ("POST", "/api/v1/sprints/{id}/start/"): {"confirm": True},
        ("POST", "/api/v1/sprints/{id}/close/"): {"confirm": True},
        ("PATCH", "/api/v1/sprints/{sprint_pk}/members/{id}/"): {"days_off": "1.0"},
        ("POST", "/api/v1/problems/"): {"title": f"Problem {n}", "incidents": [_incident(w).pk]},
        ("PATCH", "/api/v1/problems/{id}/"): {"root_cause": f"Cause {n}"},
        ("POST", "/api/v1/problems/{id}/transition/"): {"status": "investigating"},
        ("POST", "/api/v1/problems/{id}/link/"): {"incidents": [_incident(w).pk]},
        ("POST", "/api/v1/problems/{id}/unlink/"): {"incident": linked},
        ("POST", "/api/v1/problems/{id}/resolve-incidents/"): {"note": "Fixed"},
        ("POST", "/api/v1/problems/{id}/escalate-to-development/"): {"team": w.dev.pk, "note": "Bug"},
        ("POST", "/api/v1/articles/"): {"title": f"Article {n}", "body": "Try again", "visibility": "public"},
        ("PATCH", "/api/v1/articles/{id}/"): {"title": f"Article renamed {n}"},
        ("POST", "/api/v1/change-requests/"): {"title": f"Change {n}", "team": w.dev.pk},
        ("POST", "/api/v1/change-requests/{id}/triage/"): {"decision": "defer", "reason": "Later"},
        ("POST", "/api/v1/teams/"): {"name": f"Team {n}"},
        ("PUT", "/api/v1/teams/{id}/"): {"name": f"Team {n}"},
        ("PATCH", "/api/v1/teams/{id}/"): {"name": f"Team {n}"},
        ("PUT", "/api/v1/teams/{team_pk}/rotation/"): {
            "members": list(w.dev.members.filter(is_active=True).order_by("-pk").values_list("pk", flat=True))
        },
        ("POST", "/api/v1/services/"): {"name": f"Svc {n}", "team": w.dev.pk, "support_team": w.support.pk},
        ("PUT", "/api/v1/services/{id}/"): {
            "name": f"Svc {n}",
            "team": w.dev.pk,
            "support_team": w.support.pk,
        },
        ("PATCH", "/api/v1/services/{id}/"): {"name": f"Svc {n}"},
        ("POST", "/api/v1/customers/"): {"name": f"Cust {n}"},
        ("PUT", "/api/v1/customers/{id}/"): {"name": f"Cust {n}"},
        ("PATCH", "/api/v1/customers/{id}/"): {"name": f"Cust {n}"},
        ("POST", "/api/v1/contacts/"): {
            "customer": Customer.objects.get_or_create(name="Matrix customer")[0].pk,
            "name": f"Contact {n}",
            "email": f"contact{n}@example.org",
        },
        ("PATCH", "/api/v1/contacts/{id}/"): {"phone": f"+44 {n}"},
        ("POST", "/api/v1/mailboxes/"): {
            "name": f"Mailbox {n}",
            "address": f"mailbox{n}@tandem.example",
            "default_service": w.service.pk,
        },
        ("PATCH", "/api/v1/mailboxes/{id}/"): {"folder": "Support"},
        ("POST", "/api/v1/sla/calendars/"): {"name": f"Cal {n}", "timezone": "UTC", "always_open": True},
        ("PUT", "/api/v1/sla/calendars/{id}/"): {"name": f"Cal {n}", "timezone": "UTC", "always_open": True},
        ("PATCH", "/api/v1/sla/calendars/{id}/"): {"name": f"Cal {n}"},
        ("POST", "/api/v1/sla/policies/"): {
            "name": f"Pol {n}",
            "priority": "P5",
            "response_minutes": 60,
            "resolution_minutes": 600,
            "calendar": w.calendar.pk,
        },
        ("PUT", "/api/v1/sla/policies/{id}/"): {
            "name": f"Pol {n}",
            "priority": "P5",
            "response_minutes": 60,
            "resolution_minutes": 600,
            "calendar": w.calendar.pk,
        },
        ("PATCH", "/api/v1/sla/policies/{id}/"): {"warn_percent": 70},
        ("POST", "/api/v1/webhooks/"): {"url": "http://127.0.0.1:9/new", "events": ["incident.created"]},
        ("PUT", "/api/v1/webhooks/{id}/"): {"url": "http://127.0.0.1:9/put", "events": []},
        ("PATCH", "/api/v1/webhooks/{id}/"): {"active": False},
    }
    return bodies.get((method, path), {})


# ------------------------------------------------------------------ discovery
def schema_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def urlconf_api_routes():
    """Every route under /api/v1/ in the URLconf, in the schema's {name} notation."""
    routes = set()

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.add(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "")
    out = set()
    for route in routes:
        if not route.startswith("api/v1/"):
            continue
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # router regexes
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)  # path converters
        route = route.replace("^", "").replace("$", "")
        route = route.replace("{pk}", "{id}").replace("\\.", ".")
        out.add("/" + route)
    return out


NOT_IN_SCHEMA = {
    "/api/v1/",  # the index
    "/api/v1/schema/",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/api/v1/[\\s\\S]*",  # the JSON 404 for unknown addresses
}


def test_every_api_route_is_in_the_schema():
    schema_paths = {path for _, path in schema_operations()}
    routes = {r for r in urlconf_api_routes() if not r.endswith("{format}")}
    missing = routes - schema_paths - NOT_IN_SCHEMA
    assert not missing, f"routes under /api/v1/ missing from the schema: {sorted(missing)}"


def test_every_operation_has_a_policy():
    for method, path in schema_operations():
        allowed(method, path)  # raises for an operation nobody has decided about


# ------------------------------------------------------------------ the matrix
def _client(w, caller):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if caller != "anonymous":
        token, _ = Token.objects.get_or_create(user=w.users[caller])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


OPERATIONS = schema_operations()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_authorization_matrix(world, method, path, django_capture_on_commit_callbacks):
    w = world
    who = allowed(method, path)
    params = fresh_record(w, path) if "{" in path else {}
    url = path.format(**params)
    body = body_for(w, method, path, params)
    outcome = {}
    for caller in CALLERS:
        client = _client(w, caller)
        response = getattr(client, method.lower())(url, body, format="json")
        outcome[caller] = response.status_code
    unexpected = {c: s for c, s in outcome.items() if 200 <= s < 300 and c not in who}
    assert not unexpected, f"{method} {path}: 2xx for {unexpected} (allowed: {sorted(who)}; all: {outcome})"
    refused = {c: s for c, s in outcome.items() if c in who and s in (401, 403)}
    if who != EVERYONE:
        assert not refused, f"{method} {path}: allowed callers refused {refused} (all: {outcome})"
        for caller in CALLERS:
            if caller not in who:
                expected = expected_refusal(caller, path)
                assert outcome[caller] == expected, (
                    f"{method} {path}: {caller} got {outcome[caller]}: {outcome}"
                )
    if (method, path) not in STATE_DEPENDENT:
        granted = [c for c in who if 200 <= outcome[c] < 300]
        assert granted, f"{method} {path}: no allowed caller succeeded, the test data is wrong: {outcome}"


# ------------------------------------------------------------------ report pages
# The browser side of the same decisions (dashboards.permissions): the SLA dashboards and
# their exports for managers, as the metrics API above; the delivery dashboard and its
# exports for managers and product owners; the queue export for everyone who reads
# incidents. The navigation offers a page exactly to those who may open it.
SLA_REPORT_READERS = MANAGERS
DELIVERY_REPORT_READERS = {"po", "manager", "admin"}
REPORT_PAGES = [
    ("dashboards:sla", (), SLA_REPORT_READERS),
    ("dashboards:sla_at_risk", (), SLA_REPORT_READERS),
    ("dashboards:drilldown", (), SLA_REPORT_READERS),
    ("dashboards:export", ("breaches",), SLA_REPORT_READERS),
    ("dashboards:export", ("compliance_team",), SLA_REPORT_READERS),
    ("dashboards:export", ("incidents",), SLA_REPORT_READERS),
    ("dashboards:delivery", (), DELIVERY_REPORT_READERS),
    ("dashboards:export", ("velocity",), DELIVERY_REPORT_READERS),
    ("dashboards:export", ("lead_time",), DELIVERY_REPORT_READERS),
    ("dashboards:export_queue", (), STAFF),
]


@pytest.mark.parametrize(
    ("name", "args", "who"), REPORT_PAGES, ids=[f"{n} {' '.join(a)}".strip() for n, a, _ in REPORT_PAGES]
)
def test_report_pages_matrix(world, client, name, args, who):
    from django.urls import reverse

    url = reverse(name, args=args)
    outcome = {}
    for caller in CALLERS:
        client.logout()
        if caller != "anonymous":
            client.force_login(world.users[caller])
        outcome[caller] = client.get(url).status_code
    expected = {c: 200 if c in who else (302 if c == "anonymous" else 403) for c in CALLERS}
    assert outcome == expected, f"{url}: {outcome}"


@pytest.mark.parametrize(
    ("label", "who"), [("Dashboards", SLA_REPORT_READERS), ("Delivery", DELIVERY_REPORT_READERS)]
)
def test_navigation_offers_reports_to_their_readers(world, label, who):
    from tracker.navigation import nav_for

    offered = {c for c in SIGNED_IN if label in {i["label"] for i in nav_for(world.users[c])}}
    assert offered == who
