from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Browser pages of customers and their contacts (the records live in org)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "customers"
