"""The load of scripts/cluster: an independent client (locust, in its own virtualenv) mixing
queue reads, incident creation, public replies and card moves against Tandem's API.

Every write carries an Idempotency-Key and is retried with the same key until it gets a 2xx,
so a request lost with a killed web process is safe to send again. The only retryable
answer is a JSON 503 (the proxy's when an upstream died mid-request, or Tandem's own when
its database is unreachable); anything else that is not 2xx is recorded as a failure. Each
logical operation's outcome goes to TANDEM_CLUSTER_EVENTS as one JSON line, which the
cluster's checker compares with the database.

Configuration (environment): TANDEM_DESK_TOKEN, TANDEM_DEV_TOKEN, TANDEM_SERVICE,
TANDEM_CUSTOMER, TANDEM_REQUESTER, TANDEM_CARDS (ids), TANDEM_COLUMNS (two column ids),
TANDEM_INCIDENTS (ids to reply to), TANDEM_CLUSTER_EVENTS (path)."""

import json
import os
import random
import threading
import time
import uuid

from locust import HttpUser, between, task

_EVENTS = open(os.environ["TANDEM_CLUSTER_EVENTS"], "a", buffering=1)  # noqa: SIM115 - for the run
_LOCK = threading.Lock()
_CREATED: list[int] = [int(x) for x in os.environ.get("TANDEM_INCIDENTS", "").split(",") if x]
_USERS = iter(range(1_000_000))
MAX_ATTEMPTS = 8


def _ids(name):
    return [int(x) for x in os.environ[name].split(",") if x]


def _event(**fields):
    with _LOCK:
        _EVENTS.write(json.dumps(fields) + "\n")


def _retryable(response):
    if response.status_code != 503:
        return False
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


class TandemUser(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self):
        self.desk = {"Authorization": f"Token {os.environ['TANDEM_DESK_TOKEN']}"}
        self.dev = {"Authorization": f"Token {os.environ['TANDEM_DEV_TOKEN']}"}
        # One card per user (two users never race one card), moved back and forth between
        # two columns; the seed puts every card in the first.
        cards = _ids("TANDEM_CARDS")
        with _LOCK:
            self.card = cards[next(_USERS) % len(cards)]
        self.columns = _ids("TANDEM_COLUMNS")
        self.column_at = 0

    def _call(self, op, method, path, *, name, headers, body=None, key=None):
        """One logical operation: attempts until a 2xx, retrying connection failures and
        JSON 503s (same Idempotency-Key); returns the final response or None."""
        headers = dict(headers)
        if key:
            headers["Idempotency-Key"] = key
        retried = 0
        for attempt in range(MAX_ATTEMPTS):
            with self.client.request(
                method, path, json=body, headers=headers, name=name, catch_response=True, timeout=60
            ) as response:
                status = response.status_code
                if 200 <= status < 300:
                    response.success()
                    _event(op=op, key=key, status=status, retried=retried, ok=True)
                    return response
                if status == 0 or _retryable(response):
                    # 0: no answer at all (connection refused or reset): locust's failure
                    response.failure(f"retryable {status}")
                    retried += 1
                    time.sleep(min(0.25 * (attempt + 1), 2))
                    continue
                response.failure(f"unexpected {status}")
                _event(op=op, key=key, status=status, retried=retried, ok=False, body=response.text[:300])
                return None
        _event(op=op, key=key, status="gave up", retried=retried, ok=False)
        return None

    @task(5)
    def queue_read(self):
        self._call("read", "GET", "/api/v1/incidents/?page_size=25", name="GET queue", headers=self.desk)

    @task(2)
    def create_incident(self):
        key = str(uuid.uuid4())
        body = {
            "title": f"cluster {key}",
            "description": "Created under load by scripts/cluster.",
            "service": int(os.environ["TANDEM_SERVICE"]),
            "customer": int(os.environ["TANDEM_CUSTOMER"]),
            "requester": int(os.environ["TANDEM_REQUESTER"]),
            "impact": random.choice(["low", "medium"]),
            "urgency": random.choice(["low", "medium"]),
            "type": "incident",
        }
        response = self._call(
            "create",
            "POST",
            "/api/v1/incidents/",
            name="POST incident",
            headers=self.desk,
            body=body,
            key=key,
        )
        if response is not None:
            incident_id = response.json()["id"]
            _event(op="created", key=key, id=incident_id)
            with _LOCK:
                _CREATED.append(incident_id)

    @task(2)
    def reply(self):
        with _LOCK:
            if not _CREATED:
                return
            incident_id = random.choice(_CREATED)
        key = str(uuid.uuid4())
        self._call(
            "reply", "POST", f"/api/v1/incidents/{incident_id}/comments/", name="POST reply",
            headers=self.desk, body={"body": f"reply {key}", "public": True}, key=key,
        )  # fmt: skip

    @task(1)
    def move_card(self):
        target = 1 - self.column_at
        response = self._call(
            "move", "POST", f"/api/v1/cards/{self.card}/move/", name="POST card move", headers=self.dev,
            body={"column": self.columns[target]},
        )  # fmt: skip
        if response is not None:
            self.column_at = target
