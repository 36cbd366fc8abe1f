from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer portal: invited contacts sign in, see their (or their company's) incidents,
    log, reply and rate.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
