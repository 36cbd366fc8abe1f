from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation to development"

    def ready(self):
        # Boards name the moments; escalation sends the waiting incidents back to support.
        from boards import hooks

        from . import services

        hooks.card_done.append(services.escalations_on_card_done)
        hooks.card_cancelled.append(services.escalations_on_card_cancelled)
        hooks.release_deployed.append(services.escalations_on_release_deployed)
