from django.apps import AppConfig


class SprintsConfig(AppConfig):
    name = "sprints"
    verbose_name = "Sprints"

    def ready(self):
        # A card's sprint and estimate are sprint planning: boards delegate both here.
        from boards import hooks

        from . import planning

        hooks.register_sprint_planning(planning)
