from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    """Problem management (ITIL): problems that group the incidents of one cause, known errors and
    their workarounds, escalation of a problem to development.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "problems"
