"""Benchmark Tandem at realistic volumes in a separate PostgreSQL database.

    scripts/benchmark            # full: 1,000,000 incidents, boards of 2,000 and 5,000 cards
    scripts/benchmark --quick    # small volumes, a minute or two
    scripts/benchmark --only mail --incidents 100000   # one section over a smaller seed

Creates (drops first) the database named by --db on the cluster DATABASE_URL points at,
migrates it, seeds it set-based, times the endpoints (warm, and cold for the incident list
and the board), the SLA sweep's own statement, a sweep tick whose actions a real celery
worker handles, the escalation in process, then a real gunicorn (production settings)
under wrk, and prints the machine and one table. Every percentile comes from at least 30
samples (--quick: fewer), every timed response's status is checked, and a failure stops
the run with a non-zero exit. The figures go to benchmarks/results/latest.json (and, with
--only, latest-<sections>.json too).
"""

import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from benchmarks import mail as mail_section
from benchmarks import measure, report, sections
from benchmarks import profile as profiling
from benchmarks import search as search_section
from benchmarks import seed as seeding
from benchmarks.database import database_url, use_database
from benchmarks.server import throughput
from incidents.models import Incident
from org.models import Service
from tracker.celery import app

FULL = {
    "incidents": 1_000_000, "due": 1_000, "catch_up": 100_000, "catch_up_batch": 5_000, "sweepers": 2,
    "boards": [2_000, 5_000], "sprints": 30, "runs": 30, "board_runs": 30, "escalations": 30,
    "creations": 300, "dashboard_incidents": 100_000, "server_seconds": 20,
    "mail_ingest": 5_000, "mail_outbound": 1_000,
}  # fmt: skip
QUICK = {
    "incidents": 20_000, "due": 200, "catch_up": 2_000, "catch_up_batch": 500, "sweepers": 2,
    "boards": [200, 500], "sprints": 30, "runs": 5, "board_runs": 5, "escalations": 5,
    "creations": 30, "dashboard_incidents": 5_000, "server_seconds": 5,
    "mail_ingest": 100, "mail_outbound": 100,
}  # fmt: skip
SECTIONS = (
    "incidents",
    "search",
    "dashboards",
    "sla",
    "boards",
    "escalation",
    "creation",
    "mail",
    "throughput",
)


class Command(BaseCommand):
    help = "Seed a separate PostgreSQL database at realistic volumes and print timings (and JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Small volumes, for development.")
        parser.add_argument("--db", default="tandem_benchdata", help="Benchmark database (dropped first).")
        parser.add_argument(
            "--json",
            help="Where the figures go (default benchmarks/results/latest.json, and with --only "
            "latest-<sections>.json as well).",
        )
        parser.add_argument("--no-server", action="store_true", help="Skip the gunicorn + wrk section.")
        parser.add_argument("--port", type=int, default=8391, help="Port for the benchmark gunicorn.")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers.")
        parser.add_argument("--connections", type=int, default=8, help="wrk concurrent connections.")
        parser.add_argument(
            "--only",
            default="",
            help=f"Comma-separated sections to run (of {', '.join(SECTIONS)}); default all.",
        )
        parser.add_argument("--incidents", type=int, help="Seed this many incidents instead of the mode's.")
        parser.add_argument(
            "--due", type=int, help="Clocks already due for the SLA section instead of the mode's."
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="Keep the database and its seed when it already holds that many incidents "
            "(time read-only sections again without seeding; sections that write change the seed).",
        )
        parser.add_argument(
            "--profile",
            action="append",
            default=[],
            metavar="URL",
            help="Instead of the sections: where the time of a GET of URL goes (SQL, areas of the "
            "stack, our costliest functions), over an existing seed; repeat for several URLs.",
        )

    def _wanted(self, only: str) -> set[str]:
        wanted = {name.strip() for name in only.split(",") if name.strip()} or set(SECTIONS)
        unknown = wanted - set(SECTIONS)
        if unknown:
            raise CommandError(
                f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
            )
        return wanted

    def handle(
        self,
        *args,
        quick,
        db,
        json,
        no_server,
        port,
        workers,
        connections,
        only,
        incidents,
        due,
        reuse,
        profile,
        **options,
    ):
        v = dict(QUICK if quick else FULL)
        if incidents is not None:
            v["incidents"] = incidents
        if profile:
            self._profile(db, v["incidents"], profile)
            return
        if due is not None:
            v["due"] = due
        wanted = self._wanted(only)
        if no_server:
            wanted.discard("throughput")
        results_dir = Path(settings.BASE_DIR) / "benchmarks/results"
        if json is None:
            # latest.json always holds the last run; a partial one also goes to its own file.
            paths = [results_dir / "latest.json"]
            if only:
                paths.insert(0, results_dir / f"latest-{'-'.join(sorted(wanted))}.json")
        else:
            paths = [Path(json)]
        # Percentiles from at least 30 samples; --quick is for development and says so.
        measure.MIN_RUNS = v["runs"] if quick else 30
        self.t0 = time.perf_counter()
        try:
            results = self._run(v, quick, db, wanted, reuse, port, workers, connections)
        except measure.BenchmarkFailure as exc:
            raise CommandError(f"benchmark failed: {exc}") from exc
        for path in paths:
            report.write_json(results, path)
        self.stdout.write("")
        self.stdout.write(report.machine_line(results["machine"]))
        self.stdout.write(report.table(results))
        self.stdout.write("JSON: " + ", ".join(str(p) for p in paths))

    def _run(self, v, quick, db, wanted, reuse, port, workers, connections):
        results = {
            "mode": "quick" if quick else "full",
            "volumes": v,
            "database": db,
            "sections": sorted(wanted),
            "min_runs": measure.MIN_RUNS,
        }

        seeded = reuse and self._seeded(db, v["incidents"])
        self.log(f"database {db}: " + ("reusing its seed" if seeded else "(re)creating and migrating"))
        try:
            use_database(db, recreate=not seeded)
        except Exception as exc:
            raise CommandError(str(exc)) from exc
        call_command("migrate", verbosity=0, interactive=False)
        results["machine"] = report.machine()
        self.log(report.machine_line(results["machine"]))
        if "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]:
            call_command("collectstatic", interactive=False, verbosity=0)

        if seeded:
            results["seed"] = {"reused": True, "incidents": Incident.objects.count()}
        else:
            seeding.seed_demo(self.log)
        admin = get_user_model().objects.get(username="admin")
        services = list(Service.objects.filter(team__isnull=False).order_by("pk"))
        if not seeded:
            results["seed"] = seeding.seed_incidents(v["incidents"], v["due"], self.log)

        if "incidents" in wanted:
            self.log("incident list endpoint and queue page")
            results["incidents"] = sections.incident_list(
                admin, v["runs"], self.log, services[0].support_team_id
            )

        if "search" in wanted:
            self.log("search: the list's search= filter, the queue and GET /api/v1/search/")
            results["search"] = search_section.search(
                sections.session_client(admin), v["runs"], self.log, min_runs=v["runs"] if quick else 30
            )

        if "dashboards" in wanted:
            self.log(f"dashboards over the latest {v['dashboard_incidents']:,} incidents")
            results["dashboards"] = sections.dashboards(admin, v["dashboard_incidents"], v["runs"], self.log)

        redis_url = getattr(settings, "REDIS_URL", None) or settings.CELERY_BROKER_URL
        if "sla" in wanted:
            self.log("SLA sweep (a celery worker handles the tick's actions)")
            results["sla"] = sections.sla_sweep(
                v["due"], v["catch_up"], v["catch_up_batch"], v["sweepers"], self.log, v["runs"],
                database_url=database_url(), redis_url=redis_url,
            )  # fmt: skip

        if "boards" in wanted:
            self._boards(results, v, admin)
        if "escalation" in wanted:
            self.log("escalation to development")
            dev_service = next(s for s in services if s.team.boards.exists())
            users = {"admin": admin}
            results["escalation"] = sections.escalation(users, dev_service, v["escalations"], self.log)

        if "creation" in wanted:
            self.log("incident creation through the API")
            results["creation"] = sections.creation_rate(admin, services, v["creations"], self.log)

        if "mail" in wanted:
            self.log(f"customer channel: {v['mail_ingest']:,} mails in, {v['mail_outbound']:,} replies out")
            try:
                results["mail"] = mail_section.mail_channel(
                    admin, services[0], v["mail_ingest"], v["mail_outbound"], self.log
                )
            except measure.BenchmarkFailure:
                raise
            except RuntimeError as exc:  # the mail servers are missing here: said in the table
                self.log(f"  mail section skipped: {exc}")
                results["mail_error"] = str(exc)

        if "throughput" in wanted:
            self.log("throughput under gunicorn + wrk")
            token, _ = Token.objects.get_or_create(user=admin)
            try:
                results["throughput"] = sections_throughput(
                    database_url(), redis_url, token.key, services[0].pk, port=port, workers=workers,
                    seconds=v["server_seconds"], connections=connections, log=self.log,
                )  # fmt: skip
            except measure.BenchmarkFailure:
                raise
            except RuntimeError as exc:  # wrk or gunicorn could not run here: said in the table
                self.log(f"  throughput skipped: {exc}")
                results["throughput_error"] = str(exc)
        self._purge_queue()
        results["total_seconds"] = round(time.perf_counter() - self.t0, 1)
        return results

    def _boards(self, results, v, admin):
        results["boards"] = {}
        for i, n in enumerate(v["boards"]):
            last = i == len(v["boards"]) - 1
            bench, user, board = seeding.seed_board(n, self.log)
            if last:
                sprints = seeding.seed_sprints(board, v["sprints"], self.log)
            results["boards"][str(n)] = sections.board(bench, user, board, v["board_runs"], self.log)
            if last:
                client = sections.session_client(admin)
                url = f"/sprints/{sprints['active'].pk}/"
                results["sprint_page"] = {"url": url, **sections.time_get(client, url, v["board_runs"])}
                r = results["sprint_page"]
                self.log(f"  sprint page p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms n={r['runs']}")
            else:
                seeding.drop_board(board)

    def _profile(self, db: str, n_incidents: int, urls: list[str]) -> None:
        self.t0 = time.perf_counter()
        if not self._seeded(db, n_incidents):
            raise CommandError(
                f"{db} does not hold a seed of {n_incidents:,} incidents: run scripts/benchmark first "
                "(or pass --incidents for a smaller seed)"
            )
        client = sections.session_client(get_user_model().objects.get(username="admin"))
        self.stdout.write(report.machine_line(report.machine()))
        for url in urls:
            try:
                self.stdout.write(profiling.render(profiling.profile_url(client, url)))
            except measure.BenchmarkFailure as exc:
                raise CommandError(f"profile failed: {exc}") from exc

    def _seeded(self, db: str, n_incidents: int) -> bool:
        """Whether `db` exists, is migrated and holds at least n_incidents incidents."""
        try:
            use_database(db, recreate=False)
            return Incident.objects.count() >= n_incidents
        except Exception:  # noqa: BLE001 - a missing or half-made database is simply not reusable
            return False

    def _purge_queue(self):
        """Tasks the benchmark queued (webhooks, SLA actions) have no worker here."""
        try:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge("celery")
        except Exception as exc:  # noqa: BLE001 - the broker may be absent; nothing to purge then
            self.log(f"  (queue not purged: {exc})")

    def log(self, message):
        self.stdout.write(f"[{time.perf_counter() - self.t0:7.1f} s] {message}")
        self.stdout.flush()


def sections_throughput(*args, **kwargs):
    return throughput(*args, **kwargs)
