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


@pytest.mark.django_db
def test_the_profile_of_a_real_request_splits_its_time_by_area(client, django_user_model):
    from benchmarks import profile

    user = django_user_model.objects.create_superuser("prof", password="x")
    client.force_login(user)
    result = profile.profile_url(client, "/api/v1/incidents/", runs=3, top=5)
    assert result["statements"] >= 1 and result["sql_p50_ms"] <= result["wall_p50_ms"]
    areas = dict(result["areas"])
    assert "Django ORM" in areas and abs(sum(areas.values()) - 100) < 1
    assert result["ours"] and all(where.split(":")[0].endswith(".py") for _, _, where in result["ours"])
    text = profile.render(result)
    assert "of which SQL" in text and "Django ORM" in text


def test_a_profiled_error_is_not_explained_but_refused(client):
    from benchmarks import profile

    with pytest.raises(measure.BenchmarkFailure):
        profile.profile_url(FakeClient([404]), "/missing/", runs=1)


def test_areas_name_our_apps_and_the_libraries():
    from benchmarks import profile

    assert profile.area_of(f"{profile.BASE}/incidents/selectors.py") == "app: incidents"
    assert profile.area_of("/x/.venv/lib/python3.11/site-packages/django/db/models/query.py") == "Django ORM"
    assert profile.area_of("/x/.venv/lib/python3.11/site-packages/rest_framework/fields.py") == "DRF"
    assert profile.area_of("~") == "standard library, builtins"
