"""GET, POST /api/v1/articles/, GET and PATCH /api/v1/articles/{id}/, archive and restore:
the contract's fields, filters, 400s naming the field, 409 for a stale version, and a list
whose query count does not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.models import Article

pytestmark = pytest.mark.django_db

URL = "/api/v1/articles/"


def test_create_and_read_the_contract_fields(api, kb):
    api.as_user(kb.engineer)
    response = api.post(
        URL,
        {
            "title": "Safari login loops",
            "body": "Clear **cookies**",
            "visibility": "public",
            "service": kb.portal.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("title", "body", "visibility", "service")} == {
        "title": "Safari login loops",
        "body": "Clear **cookies**",
        "visibility": "public",
        "service": kb.portal.pk,
    }
    assert body["key"].startswith("KB-") and body["version"] == 1 and body["author"] == kb.engineer.pk
    assert body["body_html"] == "<p>Clear <strong>cookies</strong></p>\n"
    assert api.get(f"{URL}{body['id']}/").json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x", "visibility": "everyone"}, "visibility"),
        ({"title": "x", "service": 999999}, "service"),
        ({"title": "x", "body": "b" * 100_001}, "body"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, kb, payload, field):
    response = api.as_user(kb.desk).post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Article.objects.exists()


def test_patch_with_version_and_a_stale_one(api, kb, write):
    article = write()
    api.as_user(kb.desk)
    response = api.patch(f"{URL}{article.pk}/", {"body": "New text", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["version"] == 2
    stale = api.patch(f"{URL}{article.pk}/", {"title": "Mine", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_object"
    assert api.patch(f"{URL}{article.pk}/", {"visibility": "nope"}, format="json").status_code == 400
    assert api.patch(f"{URL}{article.pk}/", {"service": None}, format="json").json()["service"] is None


def test_archive_restore_and_the_list_filters(api, kb, write):
    public = write(title="Safari login loops", visibility="public", service=kb.portal)
    internal = write(title="Session store restart", service=kb.portal)
    general = write(title="Reset your password", visibility="public")
    api.as_user(kb.manager)

    def keys(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return {row["key"] for row in response.json()["results"]}

    assert keys() == {public.key, internal.key, general.key}
    assert keys(visibility="public") == {public.key, general.key}
    assert keys(service=kb.portal.pk) == {public.key, internal.key}
    assert keys(service="none") == {general.key}
    assert keys(search="safari") == {public.key}
    assert api.get(URL, {"visibility": "secret"}).status_code == 400
    assert api.get(URL, {"service": "abc"}).status_code == 400
    archived = api.post(f"{URL}{internal.pk}/archive/", {"version": 1}, format="json")
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert api.post(f"{URL}{internal.pk}/archive/", {}, format="json").status_code == 409
    assert keys() == {public.key, general.key} and keys(archived="true") == {internal.key}
    assert api.patch(f"{URL}{internal.pk}/", {"title": "x"}, format="json").status_code == 409
    assert api.post(f"{URL}{internal.pk}/restore/", {}, format="json").json()["archived"] is False


def test_the_list_query_count_does_not_grow(api, kb, write):
    api.as_user(kb.po)
    for n in range(2):
        write(title=f"Article {n}", service=kb.portal)
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert api.get(URL).status_code == 200
    for n in range(15):
        write(title=f"More {n}", service=kb.payments if n % 2 else None, actor=kb.engineer)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL).json()["results"]) == 17
    assert len(many) == len(few)
