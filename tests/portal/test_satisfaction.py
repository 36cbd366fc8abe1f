"""Satisfaction: one rating per resolution from the portal or the resolution mail's signed
link; the SLA dashboard shows it by team, service and customer, with the comments."""

import re

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Status
from incidents.services import incident_transition
from mail.models import MailKind, OutboundMail
from mail.outbound import build_message
from portal.models import RatingVia, SatisfactionRating
from portal.services import RatingRefused, rating_create, rating_token

pytestmark = pytest.mark.django_db


def _resolve(incident, actor):
    incident_transition(
        incident=incident, actor=actor, status=Status.RESOLVED, resolution_code="fixed", note="Done"
    )
    incident.refresh_from_db()
    return incident


def test_the_requester_rates_once_per_resolution_in_the_portal(people, portal_incident, client):
    incident = portal_incident()
    url = reverse("portal:incident", args=[incident.key])
    client.force_login(people.ana_user)
    assert "Rate our support" not in client.get(url).content.decode()  # not resolved yet
    _resolve(incident, people.org.desk)
    assert "Rate our support" in client.get(url).content.decode()
    bad = client.post(url, {"rating-score": "9", "rating-comment": "typed"})
    assert bad.status_code == 400 and "typed" in bad.content.decode()
    assert client.post(url, {"rating-score": "4", "rating-comment": "Quick, thanks"}).status_code == 302
    rating = SatisfactionRating.objects.get()
    assert (rating.score, rating.comment, rating.contact, rating.via) == (
        4,
        "Quick, thanks",
        people.ana,
        RatingVia.PORTAL,
    )
    assert (rating.team, rating.service, rating.customer) == (incident.team, incident.service, people.a)
    assert "You rated this 4 out of 5" in client.get(url).content.decode()
    with pytest.raises(RatingRefused, match="already rated"):
        rating_create(incident=incident, user=people.ana_user, score=5)
    # the customer admin sees it but does not rate someone else's request
    with pytest.raises(RatingRefused):
        rating_create(incident=incident, user=people.carl_user, score=1)
    # reopened and resolved again: a new resolution, a new rating
    incident_transition(incident=incident, actor=people.org.desk, status=Status.IN_PROGRESS)
    incident.refresh_from_db()
    with pytest.raises(RatingRefused):
        rating_create(incident=incident, user=people.ana_user, score=2)
    _resolve(incident, people.org.desk)
    rating_create(incident=incident, user=people.ana_user, score=2, comment="Came back")
    assert SatisfactionRating.objects.filter(incident=incident).count() == 2


def test_rating_api(people, portal_incident, api):
    incident = _resolve(portal_incident(), people.org.desk)
    api.as_user(people.ana_user)
    url = f"/api/v1/portal/incidents/{incident.pk}/rating/"
    assert api.post(url, {"score": 0}, format="json").status_code == 400
    created = api.post(url, {"score": 5, "comment": "Great"}, format="json")
    assert created.status_code == 201 and created.json()["score"] == 5
    again = api.post(url, {"score": 1}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "rating_refused"
    detail = api.get(f"/api/v1/portal/incidents/{incident.pk}/").json()
    assert detail["rating"]["score"] == 5
    assert (detail["resolution_code"], detail["resolution_note"]) == ("fixed", "Done")


def test_the_resolution_mail_carries_a_rating_link_that_works_without_signing_in(
    people, log_incident_plain, client
):
    incident = log_incident_plain(requester=people.bea, customer=people.b)  # no portal needed
    _resolve(incident, people.org.desk)
    mail = OutboundMail.objects.get(incident=incident, kind=MailKind.RESOLUTION)
    message = build_message(mail)
    html = message.alternatives[0][0]
    link = re.search(r"(/portal/rate/[^/\s]+/)", message.body).group(1)
    assert link in html and "How did we do?" in message.body

    page = client.get(link)
    assert page.status_code == 200 and incident.key in page.content.decode()
    assert client.post(link, {"rating-score": "3", "rating-comment": "OK"}).status_code == 200
    rating = SatisfactionRating.objects.get(incident=incident)
    assert rating.via == RatingVia.MAIL and rating.contact == people.bea and rating.score == 3
    assert "Already rated" in client.get(link).content.decode()
    assert client.post(link, {"rating-score": "1"}).status_code == 200
    assert SatisfactionRating.objects.get(incident=incident).score == 3  # once

    tampered = link.replace(link.split("/")[-2], link.split("/")[-2][:-2] + "xx")
    assert client.get(tampered).status_code == 410
    # a link of an older resolution stops working when the incident is reopened
    incident_transition(incident=incident, actor=people.org.desk, status=Status.IN_PROGRESS)
    assert "reopened" in client.get(link).content.decode()


def test_rating_links_expire(people, log_incident_plain, settings, client):
    incident = _resolve(log_incident_plain(requester=people.bea, customer=people.b), people.org.desk)
    token = rating_token(incident)
    settings.PORTAL_RATING_MAX_AGE = -1
    response = client.get(reverse("portal:rate", args=[token]))
    assert response.status_code == 410 and "expired" in response.content.decode()
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt="another.salt")


@pytest.fixture
def log_incident_plain(people):
    from incidents.services import incident_create

    def make(**kwargs):
        data = {"title": "Mail-logged", "service": people.org.service}
        data.update(kwargs)
        return incident_create(actor=people.org.desk, **data)

    return make


def test_sla_dashboard_shows_satisfaction_by_team_service_customer(people, log_incident_plain, client):
    def rated(n, customer, contact, score, comment=""):
        incidents = []
        for _ in range(n):
            incident = _resolve(log_incident_plain(customer=customer, requester=contact), people.org.desk)
            rating_create(
                incident=incident,
                token=rating_token(incident),
                score=score,
                comment=comment,
                via=RatingVia.MAIL,
            )
            incidents.append(incident)
        return incidents

    rated(1, people.a, people.ana, 5, "Lovely support from Desk")
    client.force_login(people.org.manager)
    url = reverse("dashboards:sla")
    with CaptureQueriesContext(connection) as small:
        first = client.get(url)
    assert first.status_code == 200
    rated(3, people.b, people.bea, 2, "Slow answer")
    rated(2, people.a, people.carl, 4)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    html = page.content.decode()
    section = html.split('id="satisfaction"')[1].split("</section>")[0]
    assert 'data-testid="csat-count">6<' in section
    assert "Northwind" in section and "Contoso" in section and people.org.service.name in section
    assert "Lovely support from Desk" in section and "Slow answer" in section
    assert 'data-testid="csat-average">3.17<' in section  # (5 + 3×2 + 2×4) / 6
    assert "<strong>50 %</strong> rated 4 or 5" in section  # 3 of 6
    assert len(large) == len(small)
    client.force_login(people.org.desk)
    assert client.get(url).status_code == 403
