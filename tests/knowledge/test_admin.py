"""The article admin saves through knowledge.services: a revision per change, the service's
refusals next to the fields, archive as an action, no delete."""

import pytest

from knowledge.models import Article
from tests.test_admin_writes import form_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_creates_and_edits_through_the_service(admin_client, kb):
    data = form_of(admin_client, "/admin/knowledge/article/add/")
    data.update({"title": ["   "], "body": ["Steps"], "visibility": ["public"]})
    refused = admin_client.post("/admin/knowledge/article/add/", data)
    assert refused.status_code == 200 and not Article.objects.exists()
    data["title"] = ["  Safari login loops  "]
    assert admin_client.post("/admin/knowledge/article/add/", data).status_code == 302
    article = Article.objects.get()
    assert article.title == "Safari login loops" and article.key.startswith("KB-")
    url = f"/admin/knowledge/article/{article.pk}/change/"
    again = form_of(admin_client, url)
    assert again["title"] == ["Safari login loops"]
    again["body"] = ["Steps, then sign in again"]
    assert admin_client.post(url, again).status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.revisions.count() == 2
    assert list(article.revisions.values_list("actor__username", flat=True)) == ["root", "root"]


def test_admin_archives_with_an_action_and_never_deletes(admin_client, write):
    article = write()
    page = admin_client.post(
        "/admin/knowledge/article/",
        {"action": "archive_articles", "_selected_action": [article.pk]},
        follow=True,
    )
    assert page.status_code == 200
    article.refresh_from_db()
    assert article.is_archived
    assert admin_client.get(f"/admin/knowledge/article/{article.pk}/delete/").status_code == 403
