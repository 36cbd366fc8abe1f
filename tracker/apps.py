from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tandem"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deployment checks
        from .logs import connect_request_hooks

        connect_request_hooks()  # request id header, path and duration on request_finished
