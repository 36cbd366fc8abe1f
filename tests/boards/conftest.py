import pytest


@pytest.fixture(autouse=True)
def _role_groups(request):
    """Transactional tests flush the tables, including the role groups a data migration
    created; put them back so role users keep their roles in every test."""
    if "django_db" not in {m.name for m in request.node.iter_markers()} and not (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ):
        return
    request.getfixturevalue("transactional_db" if "live_server" in request.fixturenames else "db")
    from django.contrib.auth.models import Group

    from accounts.roles import STAFF_ROLES

    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)
