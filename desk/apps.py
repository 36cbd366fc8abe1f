from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The service desk's queue views: saved views (personal or shared with a team) and bulk
    actions over selected incidents.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "desk"
