"""Where a request's time goes: `scripts/benchmark --reuse --profile URL` runs the URL in
process the way the timed sections do, then again under cProfile, and prints the wall time,
the SQL time (measured around each statement's execution, driver included) and the
profiler's own time per area of the stack (our apps, Django's ORM, templates, DRF, psycopg,
the rest of Django, the standard library), with the functions that cost the most.

It is the explanation behind a figure, not a figure: cProfile slows Python down, so its
areas are shares of the profiled run, and the wall and SQL times come from runs without it."""

import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import connection

from .measure import checked_get

BASE = str(Path(settings.BASE_DIR).resolve())
# The first matching fragment of a function's file names its area.
AREAS = (
    ("/psycopg", "psycopg (driver)"),
    ("/django/db/", "Django ORM"),
    ("/django/template", "templates (engine)"),
    ("/django/forms/", "forms and widgets"),
    ("/rest_framework/", "DRF"),
    ("/django_filters/", "django-filter"),
    ("/django/", "Django (middleware, urls, handlers)"),
    ("/site-packages/", "other libraries"),
)


def area_of(filename: str) -> str:
    if filename.startswith(BASE) and "/.venv/" not in filename:
        relative = filename[len(BASE) + 1 :]
        if relative.startswith("templates/"):
            return "templates (ours)"
        return f"app: {relative.split('/', 1)[0]}"
    for fragment, name in AREAS:
        if fragment in filename:
            return name
    return "standard library, builtins"


def _sql_timed(client, url):
    """One request, with the time its statements spent executing (ms) and their count."""
    spent = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        checked_get(client, url)
    return (time.perf_counter() - started) * 1000, sum(spent), len(spent)


def profile_url(client, url: str, runs: int = 40, top: int = 20) -> dict:
    for _ in range(3):  # warm: caches, prepared plans, imports
        checked_get(client, url)
    walls, sqls, counts = [], [], []
    for _ in range(runs):
        wall, sql, count = _sql_timed(client, url)
        walls.append(wall)
        sqls.append(sql)
        counts.append(count)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        checked_get(client, url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = defaultdict(float)
    functions = []
    total = 0.0
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(filename)] += tottime
        total += tottime
        if filename.startswith(BASE) and "/.venv/" not in filename:
            functions.append((cumtime, tottime, f"{filename[len(BASE) + 1 :]}:{line} {name}"))
    functions.sort(reverse=True)
    own = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    wall = statistics.median(walls)
    return {
        "url": url,
        "runs": runs,
        "wall_p50_ms": round(wall, 1),
        "sql_p50_ms": round(statistics.median(sqls), 1),
        "statements": max(counts),
        "areas": sorted(
            ((name, round(100 * t / total, 1)) for name, t in by_area.items()), key=lambda a: -a[1]
        ),
        "ours": [
            (round(1000 * cum / runs, 2), round(1000 * tot / runs, 2), where)
            for cum, tot, where in functions[:top]
        ],
        "own_time": [
            (round(1000 * tottime / runs, 2), calls // runs, f"{_short(filename)}:{line} {name}")
            for (filename, line, name), (_cc, calls, tottime, _cum, _callers) in own
        ],
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.removeprefix(BASE + "/")


def render(result: dict) -> str:
    lines = [
        f"{result['url']}: wall p50 {result['wall_p50_ms']} ms, of which SQL {result['sql_p50_ms']} ms "
        f"in {result['statements']} statements (n={result['runs']})",
        "  profiled Python time by area (share of the profiled run):",
    ]
    lines += [f"    {share:5.1f} %  {name}" for name, share in result["areas"] if share >= 0.5]
    lines.append("  our functions by cumulative time per request (profiled ms, cumulative / own):")
    lines += [f"    {cum:7.2f} / {tot:6.2f}  {where}" for cum, tot, where in result["ours"]]
    lines.append("  every function by its own time per request (profiled ms, calls per request):")
    lines += [f"    {tot:7.2f}  {calls:6d}  {where}" for tot, calls, where in result["own_time"]]
    return "\n".join(lines)
