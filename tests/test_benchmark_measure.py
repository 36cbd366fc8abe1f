"""The benchmark's timing helpers refuse to time errors: every timed response's status is
checked (not only the warm-up's), at least MIN_RUNS samples make a percentile, and a deep
cursor page is reached by following `next`."""

import pytest

from benchmarks import measure


class FakeResponse:
    def __init__(self, status, body=b"{}", payload=None):
        self.status_code, self.content, self._payload = status, body, payload

    def json(self):
        return self._payload


class FakeClient:
    def __init__(self, statuses):
        self.statuses, self.urls = list(statuses), []

    def get(self, url):
        self.urls.append(url)
        return FakeResponse(self.statuses.pop(0) if self.statuses else 200)


def test_a_timed_request_that_fails_mid_run_fails_the_figure():
    client = FakeClient([200, 200, 200, 200, 503])  # warm-up, counted, then the third sample
    with pytest.raises(measure.BenchmarkFailure, match=r"GET /x answered 503 \(expected 200\)"):
        measure.time_get(client, "/x", runs=10, min_runs=10)


def test_percentiles_come_from_at_least_min_runs_samples(monkeypatch):
    monkeypatch.setattr(measure, "MIN_RUNS", 30)
    client = FakeClient([])
    figures = measure.time_get(client, "/x", runs=5, budget_seconds=0)
    assert figures["runs"] == 30 and len(client.urls) == 32
    timing, _ = measure.time_call(lambda: None, runs=3)
    assert timing["runs"] == 30


def test_follow_next_walks_the_cursor_pages():
    class Pages:
        def __init__(self):
            self.urls = []

        def get(self, url):
            self.urls.append(url)
            n = len(self.urls)
            return FakeResponse(200, payload={"next": f"http://testserver/api/v1/incidents/?cursor=c{n}"})

    pages = Pages()
    assert measure.follow_next(pages, "/api/v1/incidents/?page_size=50", 3) == "/api/v1/incidents/?cursor=c3"
    assert pages.urls == ["/api/v1/incidents/?page_size=50", "/api/v1/incidents/?cursor=c1",
                          "/api/v1/incidents/?cursor=c2"]  # fmt: skip

    class Last:
        def get(self, url):
            return FakeResponse(200, payload={"next": None})

    with pytest.raises(measure.BenchmarkFailure, match="no next page after 0 hops"):
        measure.follow_next(Last(), "/api/v1/incidents/", 2)
