from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    """The knowledge base: Markdown articles, internal or public, per service, with their history."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "knowledge"

    def ready(self):
        from incidents import hooks

        from .reply import article_picker_tool

        hooks.reply_tools.append(article_picker_tool)
