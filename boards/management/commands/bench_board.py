"""Time the board endpoint and the board page at realistic sizes.

    DATABASE_URL=postgres://.../tandem_boardbench python manage.py migrate
    DATABASE_URL=postgres://.../tandem_boardbench python manage.py bench_board --cards 2000 5000

Seeds one board per size with bulk_create into the database it is pointed at, requests
both views through Django's test client (in process: server time, no network), and
reports the median and 90th percentile. The seeded boards are deleted afterwards unless
--keep is given.
"""

import statistics
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from boards import services
from boards.models import Card, CardType, ColumnCategory, LaneKind, ReasonCode, ReasonKind

TYPES = CardType.values


class Command(BaseCommand):
    help = "Seed boards of N cards and time the board endpoint and page (p50/p90)."

    def add_arguments(self, parser):
        parser.add_argument("--cards", type=int, nargs="+", default=[2000, 5000])
        parser.add_argument("--runs", type=int, default=15)
        parser.add_argument("--keep", action="store_true", help="Keep the seeded boards.")

    def handle(self, *args, cards, runs, keep, **options):
        user = self._user()
        client = Client(HTTP_HOST=self._host())
        client.force_login(user)
        rows = []
        for n in cards:
            board = self._seed(n, user)
            try:
                for label, url in (
                    ("JSON  GET /api/v1/boards/{id}/", f"/api/v1/boards/{board.pk}/"),
                    ("HTML  GET /boards/{id}/", f"/boards/{board.pk}/"),
                ):
                    p50, p90, queries, size = self._time(client, url, runs)
                    rows.append((n, label, p50, p90, queries, size))
                    self.stdout.write(
                        f"{n:>6} cards  {label:<32} p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  "
                        f"{queries:>2} queries  {size / 1024:8.0f} KiB"
                    )
            finally:
                if not keep:
                    Card.objects.filter(board=board).delete()  # columns protect their cards
                    board.delete()
        return None

    def _host(self):
        hosts = [h for h in settings.ALLOWED_HOSTS if h not in ("*",) and not h.startswith(".")]
        return hosts[0] if hosts else "localhost"

    def _user(self):
        user, created = get_user_model().objects.get_or_create(
            username="bench-developer", defaults={"first_name": "Bench", "last_name": "Developer"}
        )
        group, _ = Group.objects.get_or_create(name=Role.DEVELOPER)
        user.groups.add(group)
        return user

    def _seed(self, n, user):
        self.stdout.write(f"seeding a board with {n} cards …")
        name = f"Bench {n} {timezone.now():%H%M%S}"
        board = services.board_create(
            name=name,
            key_prefix="BEN",
            actor=user,
            columns=[
                {"name": "Backlog", "category": ColumnCategory.BACKLOG},
                {"name": "Ready", "category": ColumnCategory.READY, "wip_max": n},
                {"name": "In progress", "category": ColumnCategory.IN_PROGRESS, "wip_min": 2, "wip_max": n},
                {"name": "Review", "category": ColumnCategory.IN_PROGRESS, "wip_max": n},
                {"name": "Done", "category": ColumnCategory.DONE},
            ],
            lanes=[
                {"name": "Expedite", "kind": LaneKind.EXPEDITE},
                {"name": "Payments", "kind": LaneKind.STANDARD},
                {"name": "Portal", "kind": LaneKind.STANDARD},
            ],
        )
        reason, _ = ReasonCode.objects.get_or_create(
            kind=ReasonKind.BLOCK, code="bench-vendor", defaults={"label": "Waiting on vendor (bench)"}
        )
        columns, lanes = list(board.columns.all()), list(board.lanes.all())
        now = timezone.now()
        stamp = int(time.time())
        batch = []
        for i in range(n):
            column = columns[i % len(columns)]
            blocked = i % 13 == 0
            batch.append(
                Card(
                    board=board,
                    key=f"BEN{stamp}-{i}",
                    title=f"Bench card {i}: a realistic title of some length",
                    type=TYPES[i % len(TYPES)],
                    estimate=Decimal(i % 8 + 1),
                    assignee=user if i % 3 == 0 else None,
                    column=column,
                    lane=lanes[i % len(lanes)],
                    rank=i * services.RANK_GAP,
                    created_at=now - timedelta(days=i % 30),
                    started_at=now - timedelta(days=i % 10)
                    if column.category != ColumnCategory.BACKLOG
                    else None,
                    # recent enough that the done column shows them all: the worst case
                    done_at=now - timedelta(hours=i % 48) if column.category == ColumnCategory.DONE else None,
                    blocked=blocked,
                    block_reason=reason if blocked else None,
                    blocked_since=now - timedelta(hours=i % 70) if blocked else None,
                )
            )
        Card.objects.bulk_create(batch, batch_size=1000)
        return board

    def _time(self, client, url, runs):
        response = client.get(url)  # warm up caches and the connection
        assert response.status_code == 200, (url, response.status_code)
        queries = []
        with connection.execute_wrapper(lambda execute, sql, *a: (queries.append(sql), execute(sql, *a))[1]):
            client.get(url)
        timings = []
        for _ in range(runs):
            reset_queries()
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p90 = timings[min(len(timings) - 1, int(round(0.9 * (len(timings) - 1))))]
        return statistics.median(timings), p90, len(queries), len(response.content)
