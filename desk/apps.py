from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The service desk's queue views: saved views (personal or shared with a team) and bulk
    actions over selected incidents.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "desk"

    def ready(self) -> None:
        from incidents import hooks

        from . import views

        # The queue page shows the saved views, "Save this view" and the bulk bar.
        if views.queue_extras not in hooks.queue_extras:
            hooks.queue_extras.append(views.queue_extras)
