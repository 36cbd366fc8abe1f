from django.apps import AppConfig


class SearchConfig(AppConfig):
    """One search over incidents, cards, problems, articles, customers and contacts (PostgreSQL
    full-text and trigram; a simpler match on SQLite).
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "search"
