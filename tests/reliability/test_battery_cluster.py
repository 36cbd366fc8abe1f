"""The cluster drill, short (scripts/cluster runs it for 2 minutes): two gunicorn instances
behind a round-robin proxy, three workers, one beat, locust for 30 s; one gunicorn and one
worker SIGKILLed half-way and restarted. Nothing acknowledged is lost or doubled, every
breach, webhook and mail happens once, every operation ends in a 2xx."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import STAFF_ROLES

from . import cluster
from .helpers import ARTIFACTS, record


@pytest.fixture
def _groups(transactional_db):
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.mark.battery
@pytest.mark.skipif(not cluster.LOCUST.exists(), reason="locust's virtualenv: scripts/reliability makes it")
def test_cluster_drill_loses_and_doubles_nothing(_groups):
    result = cluster.run(seconds=30, users=6, breaches=30, out_dir=ARTIFACTS / "cluster-battery", log=print)
    problems = cluster.verdict(result)
    lost = (
        (result["creates acknowledged"] - result["creates stored"])
        + (result["replies acknowledged"] - result["replies stored"])
        + (result["clocks due in the run"] - result["clocks breached"])
        + (result["webhook deliveries"] - result["webhooks received (distinct ids)"])
        + (result["mails"] - result["mails received by the sink"])
    )
    record(
        "cluster: 2 gunicorn + 3 workers + beat under locust, one web and one worker SIGKILLed",
        faults=["gunicorn instance SIGKILLed", "worker SIGKILLed"],
        checked=result["operations"]
        + result["clocks due in the run"]
        + result["webhook deliveries"]
        + result["mails"],
        lost=lost,
        notes=f"{result['requests/s']} req/s, p95 {result['p95 ms']} ms, "
        f"{result['needed a retry (JSON 503 or no answer)']} operations retried, proxy {result['proxy']}",
    )
    assert not problems, (problems, result)
