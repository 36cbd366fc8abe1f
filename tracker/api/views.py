from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# Addresses that are actions or documents, not collections to list.
NOT_COLLECTIONS = {"", "auth/token/", "schema/", "docs/", "redoc/", "notifications/read/"}


def _answers_get(callback) -> bool:
    """Whether the view behind an address answers GET: a viewset route maps "get" to an
    action, an APIView has a get(). Actions one can only POST to (incidents/bulk/) are not
    collections to list."""
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return "get" in actions
    view_class = getattr(callback, "view_class", None)
    return view_class is None or hasattr(view_class, "get")


def _collections() -> list[str]:
    """Addresses under /api/v1/ without a record id, discovered from the URLconf so a new
    collection appears here by itself: e.g. "incidents/", "sla/policies/", "metrics/sla/"."""
    found = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = (prefix + str(p.pattern)).replace("^", "").replace("$", "")
                if (
                    route.startswith("api/v1/")
                    and not any(c in route for c in "<([\\")
                    and _answers_get(p.callback)
                ):
                    found.add(route.removeprefix("api/v1/"))

    walk(get_resolver().url_patterns)
    return sorted(found - NOT_COLLECTIONS)


class ApiRootApi(APIView):
    """Index of the API: its collections, authentication, the schema and its docs."""

    @extend_schema(exclude=True)
    def get(self, request):
        root = request.build_absolute_uri(reverse("api-root"))
        return Response(
            {
                "resources": {route.rstrip("/"): root + route for route in _collections()},
                "auth_token": request.build_absolute_uri(reverse("api-auth-token")),
                "schema": request.build_absolute_uri(reverse("api-schema")),
                "docs": request.build_absolute_uri(reverse("api-docs")),
            }
        )


class ApiNotFoundApi(APIView):
    """Unknown addresses under /api/v1/: a JSON 404 for every method, whoever asks."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound()

    def get(self, request, *args, **kwargs):
        raise NotFound()

    post = put = patch = delete = head = options = get
