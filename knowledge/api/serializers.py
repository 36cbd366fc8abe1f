from typing import Any

from rest_framework import serializers

from org.models import Service

from ..models import Article, Visibility
from ..rendering import render_markdown


class ArticleSerializer(serializers.ModelSerializer):
    """An article. `body` is the Markdown; `body_html` the same sanitised for display."""

    body_html = serializers.SerializerMethodField()
    service_name = serializers.CharField(source="service.name", read_only=True, default=None, allow_null=True)
    archived = serializers.BooleanField(source="is_archived", read_only=True)
    author: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
    updated_by: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "key",
            "title",
            "body",
            "body_html",
            "visibility",
            "service",
            "service_name",
            "author",
            "updated_by",
            "source_problem_id",
            "archived",
            "archived_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_body_html(self, article: Article) -> str:
        return str(render_markdown(article.body))


class ArticleCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ArticleUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a newer one answers 409 stale_object."
    )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)


class ArticleFilterSerializer(serializers.Serializer):
    """The list's query parameters, checked (a bad one is a 400 naming it)."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    service = serializers.RegexField(r"^(\d+|none)$", required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False, allow_blank=True)
    archived = serializers.BooleanField(required=False, default=False)
