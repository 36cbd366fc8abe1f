"""The caller's own notifications over the API."""

import pytest

from notifications.models import Kind, Notification
from notifications.services import notification_create

pytestmark = pytest.mark.django_db


def test_list_count_and_mark_read(api, engineer_user, desk_user):
    for title in ("one", "two", "three"):
        notification_create(kind=Kind.REPLY, recipients=[engineer_user], title=title)
    notification_create(kind=Kind.REPLY, recipients=[desk_user], title="not yours")
    client = api.as_user(engineer_user)
    body = client.get("/api/v1/notifications/?page_size=2").json()
    assert [n["title"] for n in body["results"]] == ["three", "two"] and body["next"]
    assert body["unread"] == 3
    first = body["results"][0]["id"]
    assert client.post("/api/v1/notifications/read/", {"ids": [first]}, format="json").json() == {"marked": 1}
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [n["title"] for n in unread["results"]] == ["two", "one"] and unread["unread"] == 2
    # another user's notification cannot be marked through its id
    theirs = Notification.objects.get(title="not yours").pk
    assert client.post("/api/v1/notifications/read/", {"ids": [theirs]}, format="json").json() == {
        "marked": 0
    }
    assert client.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 2}
    assert client.get("/api/v1/notifications/").json()["unread"] == 0
    assert Notification.objects.get(pk=theirs).read_at is None


def test_bad_input_is_a_400(api, engineer_user):
    client = api.as_user(engineer_user)
    assert client.get("/api/v1/notifications/?unread=maybe").status_code == 400
    assert client.post("/api/v1/notifications/read/", {"ids": []}, format="json").status_code == 400
    assert client.post("/api/v1/notifications/read/", {"ids": ["x"]}, format="json").status_code == 400


def test_query_count_does_not_grow(api, engineer_user, django_assert_max_num_queries):
    client = api.as_user(engineer_user)
    for i in range(3):
        notification_create(kind=Kind.REPLY, recipients=[engineer_user], title=f"n{i}")
    with django_assert_max_num_queries(6):
        client.get("/api/v1/notifications/")
    for i in range(60):
        notification_create(kind=Kind.REPLY, recipients=[engineer_user], title=f"m{i}")
    with django_assert_max_num_queries(6):
        client.get("/api/v1/notifications/")
