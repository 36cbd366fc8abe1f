from django.apps import AppConfig


class BoardsConfig(AppConfig):
    name = "boards"
    verbose_name = "Boards"

    def ready(self):
        # The incident API and pages show the fix forecast, which the boards app computes.
        from incidents import hooks

        from . import incident_reads

        hooks.register_fix_forecasts(incident_reads)
