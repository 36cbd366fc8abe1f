"""The OpenAPI schema (valid, no generator warnings), its browsable docs served without a
CDN, the /api/v1/ index, JSON 404s, and the per-user rate limit."""

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from accounts.api.views import LoginRateThrottle
from tests.factories import PASSWORD


def test_schema_generates_valid_with_zero_warnings(tmp_path):
    """This is the schema check (ENABLE_DJANGO_DEPLOY_CHECK is off on purpose)."""
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    assert out.read_text().startswith("openapi: 3")


def test_every_reference_in_the_served_schema_resolves(api, desk_user):
    api.as_user(desk_user)
    api.get("/api/v1/schema/?format=json")  # post-processing must not leave traces for the next one
    schema = api.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    dangling = {r for r in refs(schema) if r.removeprefix("#/components/schemas/") not in components}
    assert not dangling


def test_every_operation_documents_its_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert components["Conflict"]["required"] == ["code", "detail"]
    for path, item in schema["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), (method, path)
            assert "429" in codes, (method, path)
            if path != "/api/v1/auth/token/":
                assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "409"} <= codes, (method, path)
                conflict = op["responses"]["409"]["content"]["application/json"]["schema"]
                assert conflict == {"$ref": "#/components/schemas/Conflict"}, (method, path)


def test_cursor_lists_are_documented_as_results_and_next():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ("/api/v1/incidents/", "/api/v1/cards/"):
        op = schema["paths"][path]["get"]
        assert {"cursor", "page_size"} <= {p["name"] for p in op["parameters"]}
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert set(body["properties"]) == {"results", "next"}, path


def test_schema_needs_a_login_and_serves_json(api, desk_user):
    assert api.get("/api/v1/schema/").status_code == 401
    api.as_user(desk_user)
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


def test_index_lists_every_collection_and_each_link_works(api, admin_user):
    api.as_user(admin_user)
    body = api.get("/api/v1/").json()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    collections = {p for p, item in schema["paths"].items() if "{" not in p and "get" in item}
    listed = {url.split("/api/v1/", 1)[1] for url in body["resources"].values()}
    assert {p.removeprefix("/api/v1/") for p in collections} <= listed
    for required in ("incidents/", "cards/", "boards/", "teams/", "sla/policies/", "webhooks/", "sprints/"):
        assert required in listed
    for url in body["resources"].values():
        path = "/api/v1/" + url.split("/api/v1/", 1)[1]
        # A query the schema requires (search's q) is given, as a caller reading it would.
        required = [
            p["name"]
            for p in schema["paths"].get(path, {}).get("get", {}).get("parameters", [])
            if p["in"] == "query" and p.get("required")
        ]
        query = "?" + "&".join(f"{name}=x" for name in required) if required else ""
        # The portal's collections are for customers' portal accounts: staff are refused
        # by design (tests/portal covers them as a customer sees them).
        expected = 403 if path.startswith("/api/v1/portal/") else 200
        assert api.get(url + query).status_code == expected, url
    assert body["auth_token"].endswith("/api/v1/auth/token/")
    assert api.get(body["docs"]).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/incidents/abc/", "/api/v1/incidents/1/%0A/"])
def test_unknown_api_addresses_are_json_404(client, path):
    for method in ("get", "post", "patch", "delete"):
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Not found."}


def test_api_is_rate_limited_per_user(api, settings, desk_user, engineer_user):
    settings.API_THROTTLE_RATE = "3/min"
    api.as_user(desk_user)
    codes = [api.get("/api/v1/teams/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = api.get("/api/v1/incidents/")
    assert limited.status_code == 429 and "detail" in limited.json() and int(limited["Retry-After"]) > 0
    api.as_user(engineer_user)  # another user has a budget of their own
    assert api.get("/api/v1/teams/").status_code == 200


def test_default_rate_is_generous_and_from_the_environment():
    from tracker.settings.base import API_THROTTLE_RATE

    number, period = API_THROTTLE_RATE.split("/")
    assert int(number) >= 1000 or period.startswith("s")


def test_token_endpoint_is_rate_limited_per_address(client, desk_user, monkeypatch):
    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    good = {"username": "desk", "password": PASSWORD}
    codes = [
        client.post("/api/v1/auth/token/", good, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_token_endpoint_locks_out_after_repeated_failures(client, desk_user):
    bad = {"username": "desk", "password": "nope"}
    codes = [
        client.post("/api/v1/auth/token/", bad, content_type="application/json").status_code
        for _ in range(11)
    ]
    assert codes[:10] == [400] * 10 and codes[10] == 429
    good = {"username": "desk", "password": PASSWORD}
    assert client.post("/api/v1/auth/token/", good, content_type="application/json").status_code == 429


@pytest.mark.browser
def test_swagger_ui_renders_from_local_files(page, live_server, login, desk_user, screenshot):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, desk_user)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=20000)
    # Open the transition action (the sections start open; folding each one re-renders the
    # whole page, so the element screenshot below frames the operation instead).
    operation = page.locator(".opblock-summary-path[data-path='/api/v1/incidents/{id}/transition/']")
    operation.click()
    page.wait_for_selector(".opblock.is-open .responses-table")
    responses = page.locator(".opblock.is-open .responses-table .response-col_status").all_inner_texts()
    assert {"200", "400", "403", "404", "409"} <= {r.strip() for r in responses}
    path = screenshot(page, "api-docs-swagger")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path.with_name("api-docs-top.png")))
    page.locator(".opblock.is-open").screenshot(path=str(path.with_name("api-docs-transition.png")))
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Tandem API")
    assert page.locator(".swagger-ui .errors-wrapper").count() == 0, "Swagger UI reports schema errors"
    outside = [
        url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")
    ]
    assert not outside, f"docs loaded files from elsewhere: {outside}"
