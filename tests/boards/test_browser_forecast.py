"""Browser: the fix forecast on the incident page (development panel) and on the card page."""
# ruff: noqa: F811

from datetime import timedelta

import pytest
from django.utils import timezone

from boards.models import Card, ColumnCategory, LaneKind
from boards.services import release_create
from escalation.services import incident_escalate_to_development
from tests.escalation.conftest import board, desk_team, dev_team, log_incident, service  # noqa: F401

from .factories import CardFactory, column_of, lane_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_incident_and_card_pages_show_when_the_fix_is_likely_done(
    page, live_server, login, engineer_user, developer_user, desk_team, board, log_incident, screenshot
):
    done, now = column_of(board, ColumnCategory.DONE), timezone.now()
    Card.objects.bulk_create(
        CardFactory.build(
            board=board, column=done, lane=lane_of(board, LaneKind.EXPEDITE), key=f"PAST-{d}",
            created_at=now - timedelta(days=d + 2), started_at=now - timedelta(days=d + 1),
            done_at=now - timedelta(days=d),
        )
        for d in range(1, 40, 2)
    )  # fmt: skip
    incident = log_incident(title="Card payments fail")
    card = incident_escalate_to_development(incident=incident, actor=engineer_user).card
    release = release_create(
        board=board, name="2026.12", planned_for=timezone.localdate() + timedelta(days=9), actor=None
    )
    Card.objects.filter(pk=card.pk).update(release=release)

    login(page, engineer_user)
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    forecast = page.get_by_test_id("fix-forecast")
    text = forecast.inner_text()
    assert "Fix likely done by" in text and "(85 %:" in text and card.key in text
    assert "Ships with release 2026.12, planned for" in text
    screenshot(page, "forecast-incident")

    page.goto(f"{live_server.url}/boards/cards/{card.pk}/")
    assert "Card likely done by" in page.get_by_test_id("fix-forecast").inner_text()
    screenshot(page, "forecast-card")
