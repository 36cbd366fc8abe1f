import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

from tracker import demo

# Each app that has demo data provides `<app>.demo.seed(ctx, log)`; order matters
# (policies before incidents, boards before sprints).
APP_SEEDERS = ("sla", "incidents", "boards", "sprints", "changes", "escalation", "knowledge", "problems")


class Command(BaseCommand):
    help = "Create (or complete) a small, believable demo organisation. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--logins-only", action="store_true", help="Only print the demo logins.")

    def handle(self, *args, logins_only=False, **options):
        if logins_only:
            self.stdout.write(demo.logins_text())
            return
        with transaction.atomic():
            ctx = demo.seed_organisation(self.log)
            for app in APP_SEEDERS:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo" and exc.name != app:
                        raise
                    continue
                module.seed(ctx, self.log)
        self.log("demo data ready")

    def log(self, message):
        self.stdout.write(f"  · {message}")
        self.stdout.flush()
