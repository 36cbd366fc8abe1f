from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def _top_level_resources():
    """Collection endpoints registered under /api/v1/, discovered from the URLconf."""
    resolver = get_resolver()
    names = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and p.name.endswith("-list"):
                route = prefix + str(p.pattern)
                if route.startswith("api/v1/") and "<" not in route:
                    names.add(p.name)

    walk(resolver.url_patterns)
    return sorted(names)


class ApiRootApi(APIView):
    """Index of the API: its collections, authentication and the schema."""

    @extend_schema(exclude=True)
    def get(self, request):
        resources = {
            name.removesuffix("-list"): request.build_absolute_uri(reverse(name))
            for name in _top_level_resources()
        }
        return Response(
            {
                "resources": resources,
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
