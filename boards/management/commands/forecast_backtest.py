"""Backtest the fix forecast over a board's history (boards.backtest).

python manage.py forecast_backtest                      # the demo board
python manage.py forecast_backtest --board "Bench 5000 …" --limit 200
python manage.py forecast_backtest --all -v 2           # every board, each forecast listed
"""

from django.core.management.base import BaseCommand, CommandError

from boards import demo
from boards.backtest import board_backtest, date_or_dash
from boards.models import Board


class Command(BaseCommand):
    help = "How often a card was done by the 85 % (and the 50 %) date forecast when it was committed to."

    def add_arguments(self, parser):
        parser.add_argument("--board", help="Board name or id (default: the demo board).")
        parser.add_argument("--all", action="store_true", help="Every board.")
        parser.add_argument("--limit", type=int, help="Only the last N done cards of each board.")
        parser.add_argument("--trials", type=int, default=500)

    def handle(self, *args, board=None, all=False, limit=None, trials=500, verbosity=1, **options):
        if all:
            boards = list(Board.objects.order_by("name"))
        else:
            ref = board or demo.BOARD_NAME
            found = Board.objects.filter(pk=int(ref)) if ref.isdigit() else Board.objects.filter(name=ref)
            boards = list(found)
            if not boards:
                raise CommandError(f"No board {ref!r}.")
        for b in boards:
            result = board_backtest(b, limit=limit, trials=trials)
            if verbosity >= 2:
                for row in result.rows:
                    self.stdout.write(
                        f"  card {row['card']:>6} {row['kind']:<9} committed {row['committed']} "
                        f"ahead {row['ahead']:>3} (work {row['work']:>4.1f}, {row['overtaken']} of them "
                        f"done after it)  rate {row['rate']:.2f}/day over {row['history_days']} days  "
                        f"p50 {date_or_dash(row['p50'])} {'hit ' if row['hit50'] else 'MISS'}  "
                        f"p85 {date_or_dash(row['p85'])} {'hit ' if row['hit85'] else 'MISS'}  "
                        f"done {date_or_dash(row['done'])}"
                    )
            if not result.evaluated:
                self.stdout.write(
                    f"{b.name}: nothing to evaluate ({result.insufficient} with too little history)"
                )
                continue
            kinds = ", ".join(
                f"{kind} {h85}/{n} ({h85 / n:.0%})" for kind, (n, h85, _h50) in sorted(result.by_kind.items())
            )
            self.stdout.write(
                f"{b.name}: {result.evaluated} done cards evaluated; done by the 85 % date: "
                f"{result.hits85} ({result.hit_rate85:.0%}); by the 50 % date: {result.hits50} "
                f"({result.hit_rate50:.0%}); {kinds}; {result.insufficient} skipped (too little history)"
            )
