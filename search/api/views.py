"""GET /api/v1/search/?q= — every kind of record, best first (search.selectors)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..forms import SearchForm
from ..permissions import can_search
from ..selectors import KIND_NAMES, global_search, result_dict

_RESULT_FIELDS: dict[str, serializers.Field] = {
    "type": serializers.ChoiceField(choices=KIND_NAMES),
    "id": serializers.IntegerField(),
    "key": serializers.CharField(help_text="The record's key (INC-…, a card's, PRB-…), or empty"),
    "title": serializers.CharField(),
    "snippet": serializers.CharField(help_text="HTML: the matching text escaped, matched words in <mark>"),
    "url": serializers.CharField(help_text="The record's page"),
}


class SearchApi(APIView):
    """Incidents, problems, articles, cards, customers and contacts matching `q`, best first.

    Every term of `q` must match (words with stemming, keys, names with typos within
    trigram reach); each kind is listed only to those who may read it."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="What to look for"),
            OpenApiParameter("type", OpenApiTypes.STR, enum=list(KIND_NAMES), description="One kind only"),
        ],
        responses=inline_serializer(
            "SearchResults", {"results": inline_serializer("SearchResult", _RESULT_FIELDS, many=True)}
        ),
    )
    def get(self, request):
        if not can_search(request.user):
            raise PermissionDenied("Search is for staff; your account has no role yet.")
        form = SearchForm(request.query_params, required=True)
        if not form.is_valid():
            raise ValidationError({f: [str(m) for m in msgs] for f, msgs in form.errors.items()})
        results = global_search(
            user=request.user, text=form.cleaned_data["q"], kind=form.cleaned_data["type"] or None
        )
        return Response({"results": [result_dict(r) for r in results]})
