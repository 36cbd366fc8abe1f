"""Knowledge base API: parse, ask knowledge.permissions, call knowledge.services, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from tracker.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent

from .. import permissions as perms
from .. import services
from ..models import Article
from ..selectors import article_list
from . import serializers as s


class IsStaffMember(permissions.BasePermission):
    message = "The knowledge base is for Tandem staff."

    def has_permission(self, request, view):
        return perms.can_view_articles(request.user)


LIST_PARAMETERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description="Words (all must occur) or a key, KB-12."),
    OpenApiParameter(
        "service", OpenApiTypes.STR, description='A service id, or "none" for general articles.'
    ),
    OpenApiParameter("visibility", OpenApiTypes.STR, enum=["internal", "public"]),
    OpenApiParameter("archived", OpenApiTypes.BOOL, description="true: only archived articles."),
]


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS))
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Knowledge-base articles (Markdown), internal or public, per service. Every staff
    member reads them; support roles and managers write; the author or a manager archives."""

    serializer_class = s.ArticleSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    lookup_value_regex = r"\d+"
    filter_backends: list = []  # the list's parameters are read by knowledge.selectors

    def get_queryset(self):
        if self.action != "list":
            return Article.objects.select_related("service")
        params = s.ArticleFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        return article_list(
            filters={
                "q": values.get("search", ""),
                "service": values.get("service", ""),
                "visibility": values.get("visibility", ""),
                "archived": "1" if values.get("archived") else "",
            }
        )

    def _article(self) -> Article:
        return get_object_or_404(Article.objects.select_related("service"), pk=self.kwargs["pk"])

    def _respond(self, article: Article, code=status.HTTP_200_OK):
        fresh = Article.objects.select_related("service").get(pk=article.pk)
        return Response(s.ArticleSerializer(fresh).data, status=code)

    @extend_schema(
        request=s.ArticleCreateSerializer,
        responses={201: s.ArticleSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        if not perms.can_create_article(request.user):
            raise PermissionDenied("Your role cannot write articles.")
        data = s.ArticleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_create(actor=request.user, **data.validated_data)
        return self._respond(article, status.HTTP_201_CREATED)

    @extend_schema(request=s.ArticleUpdateSerializer, responses=s.ArticleSerializer)
    def partial_update(self, request, pk=None):
        article = self._article()
        if not perms.can_edit_article(request.user, article):
            raise PermissionDenied("Your role cannot edit articles.")
        data = s.ArticleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        note = values.pop("note", "")
        article = services.article_update(
            article=article, actor=request.user, data=values, expected_version=version, note=note
        )
        return self._respond(article)

    @extend_schema(request=s.VersionSerializer, responses=s.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        article = self._article()
        if not perms.can_archive_article(request.user, article):
            raise PermissionDenied("Only the article's author or a manager can archive it.")
        data = s.VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_archive(
            article=article, actor=request.user, expected_version=data.validated_data.get("version")
        )
        return self._respond(article)

    @extend_schema(request=s.VersionSerializer, responses=s.ArticleSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        article = self._article()
        if not perms.can_archive_article(request.user, article):
            raise PermissionDenied("Only the article's author or a manager can restore it.")
        data = s.VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_restore(
            article=article, actor=request.user, expected_version=data.validated_data.get("version")
        )
        return self._respond(article)
