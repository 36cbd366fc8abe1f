from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    """Problem management (ITIL): problems that group the incidents of one cause, known errors and
    their workarounds, escalation of a problem to development.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "problems"

    def ready(self) -> None:
        # Boards name the moments; the problem's history and its owner hear of its card.
        from boards import hooks
        from incidents import hooks as incident_hooks
        from knowledge import hooks as knowledge_hooks

        from . import selectors, services

        hooks.card_done.append(services.problems_on_card_done)
        hooks.card_cancelled.append(services.problems_on_card_cancelled)
        hooks.release_deployed.append(services.problems_on_release_deployed)
        # The log form's one-click link to a suggested known error (or a similar incident).
        incident_hooks.incident_logged.append(services.link_logged_incident)
        # An article made from a known error's workaround names its problem.
        knowledge_hooks.problem_refs.append(selectors.problem_refs)
