import logging.config
import os

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings.local")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _logging_as_django(**kwargs):
    """Workers and beat log through Django's LOGGING (structlog: JSON lines in production)
    instead of Celery's own handlers, so their lines look like the web's and carry the
    bound request and task ids. LOG_LEVEL sets the level (not --loglevel)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


class StructlogWorkerStep(bootsteps.Step):
    """In a worker: while a task runs, bind the request id its headers carry (put there at
    publish by django-structlog, whose app connects the publishing side in every process)
    and log its start, success or failure with it."""

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        from django_structlog.celery.receivers import CeleryReceiver

        self.receiver = receiver = CeleryReceiver()
        for signal, handler in (
            (signals.task_prerun, receiver.receiver_task_prerun),
            (signals.task_retry, receiver.receiver_task_retry),
            (signals.task_success, receiver.receiver_task_success),
            (signals.task_failure, receiver.receiver_task_failure),
            (signals.task_revoked, receiver.receiver_task_revoked),
            (signals.task_unknown, receiver.receiver_task_unknown),
            (signals.task_rejected, receiver.receiver_task_rejected),
        ):
            signal.connect(handler, weak=False)


app.steps["worker"].add(StructlogWorkerStep)
