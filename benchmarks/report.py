"""Turn the collected figures into the printed table and the JSON document."""

import json
import os
import platform
from pathlib import Path

import django
from django.db import connection

COLD_NOTE = "cold: Django cache cleared, new DB connection; PostgreSQL buffers and OS cache as they are"


def machine() -> dict:
    """What the figures were measured on."""
    ram = None
    try:
        with open("/proc/meminfo") as f:
            kib = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
        ram = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_setting('shared_buffers')")
        pg_version, shared_buffers = cur.fetchone()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "cores": os.cpu_count(),
        "ram_gib": ram,
        "postgresql": pg_version,
        "shared_buffers": shared_buffers,
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "load_1min_at_start": None if load is None else round(load, 2),
    }


def machine_line(m: dict) -> str:
    return (
        f"machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, PostgreSQL {m['postgresql']} "
        f"(shared_buffers {m['shared_buffers']}), Python {m['python']}, Django {m['django']}, "
        f"{m['platform']}; load {m['load_1min_at_start']} at start"
    )


def _ms(v):
    return "—" if v is None else f"{v:,.1f} ms"


def _timed(r) -> str:
    return f"{_ms(r['p50_ms'])} / {_ms(r['p95_ms'])} / {r['queries']} (n={r['runs']})"


def rows(results: dict) -> list[tuple[str, str]]:
    out = []
    seed = results.get("seed", {})
    if seed.get("reused"):
        out.append(("Seeded incidents", f"{seed['incidents']:,} (the seed of an earlier run, reused)"))
    elif seed:
        out.append(
            (
                "Seeded incidents / timers (running)",
                f"{seed['incidents']:,} / {seed['timers']:,} ({seed['running_timers']:,}) "
                f"in {seed['seconds']} s",
            )
        )
    for label, r in results.get("incidents", {}).items():
        out.append((f"{label} p50 / p95 / queries", _timed(r)))
    for label, r in results.get("search", {}).items():
        plan = r["list_plan"]
        indexes = ", ".join(plan["indexes"]) or "no index"
        out.append(
            (
                f"search {label} ({r['term']}) list p50 / p95 / queries",
                f"{_ms(r['list']['p50_ms'])} / {_ms(r['list']['p95_ms'])} / {r['list']['queries']} "
                f"(plan: {indexes}{', seq scan' if plan.get('seq_scan_on_incidents') else ''})",
            )
        )
        out.append(
            (
                f"search {label} queue page / GET /api/v1/search/ p95",
                f"{_ms(r['queue']['p95_ms'])} / {_ms(r['global']['p95_ms'])} "
                f"({r['global']['queries']} queries)",
            )
        )
    for n, b in results.get("boards", {}).items():
        for label in ("endpoint", "endpoint changed", "endpoint cold", "page"):
            if label in b:
                out.append((f"board {label} at {int(n):,} cards p50 / p95 / queries", _timed(b[label])))
    if "sprint_page" in results:
        r = results["sprint_page"]
        out.append(("sprint page (active of 30) p50 / p95 / queries", _timed(r)))
    s = results.get("sla")
    if s:
        st = s["statement"]
        out.append(
            (
                f"SLA sweep statement, batch of {st['moved']:,} "
                f"({s['due']:,} due, {s['running_timers']:,} running)",
                f"{_ms(st['p50_ms'])} / {_ms(st['p95_ms'])} p50 / p95 (n={st['runs']}, rolled back)",
            )
        )
        t = s["tick"]
        if t.get("seconds") is not None:
            out.append(
                (
                    f"SLA tick with actions ({t['breaches']:,} breaches, real worker)",
                    f"{t['seconds']:.2f} s until handled (sweep {t['sweep_seconds']:.2f} s; "
                    f"{t['mails']:,} mails, {t['webhooks']:,} webhooks, "
                    f"{t['escalated_incidents']:,} escalated)",
                )
            )
        else:
            out.append(
                (f"SLA tick ({t['breaches']:,} breaches, actions not handled)", f"{t['sweep_seconds']:.3f} s")
            )
        out.append(("SLA idle sweep tick (nothing due)", _ms(s["idle_tick_ms"])))
        out.append(
            (
                f"SLA catch-up of {s['catch_up_due']:,} due ({s['catch_up_sweepers']} sweepers, no actions)",
                f"{s['catch_up_per_second']:,}/s ({s['catch_up_breaches']:,} in {s['catch_up_seconds']} s)",
            )
        )
    e = results.get("escalation")
    if e:
        out.append(
            (
                "escalate to development, service p50 / p95",
                f"{_ms(e['service_p50_ms'])} / {_ms(e['service_p95_ms'])} (n={e['runs']})",
            )
        )
        out.append(
            (
                "escalate to development, API p50 / p95",
                f"{_ms(e['api_p50_ms'])} / {_ms(e['api_p95_ms'])} (n={e['runs']})",
            )
        )
    c = results.get("creation")
    if c:
        out.append(
            (
                "incident creation via API (in-process, 1 client)",
                f"{c['per_second']}/s, p95 {_ms(c['p95_ms'])}, {c['created']}/{c['requests']} stored",
            )
        )
    d = results.get("dashboards")
    if d:
        f = d["sla_metrics"]
        out.append(
            (
                f"sla_metrics over {d['incidents_in_window']:,} incidents p50 / p95",
                f"{_ms(f['p50_ms'])} / {_ms(f['p95_ms'])} (n={f['runs']})",
            )
        )
        out.append(("GET /api/v1/metrics/sla/ p50 / p95 / queries", _timed(d["api"])))
        for r in d.get("pages", {}).values():
            out.append((f"{r['url']} p50 / p95 / queries", _timed(r)))
    m = results.get("mail")
    if m:
        out.append(
            (
                f"mail ingest from Dovecot ({m['ingest_messages']:,}, {m['ingest_replies']:,} replies)",
                f"{m['ingest_per_second']:,}/s ({m['ingest_logged']:,} in {m['ingest_seconds']} s, "
                f"{m['ingest_incidents_opened']:,} opened)",
            )
        )
        out.append(
            (
                f"mail outbound: {m['outbound_replies']:,} replies to an SMTP sink",
                f"{m['outbound_seconds']} s ({m['outbound_received']:,} received)",
            )
        )
    elif "mail_error" in results:
        out.append(("mail section", f"skipped: {results['mail_error']}"))
    t = results.get("throughput")
    if t:
        for label in ("incident list", "incident create"):
            r = t.get(label)
            if r:
                extra = f", {r['created_rows']} rows stored" if "created_rows" in r else ""
                out.append(
                    (
                        f"gunicorn {label}: req/s, p95 ({r['connections']} conns)",
                        f"{r['requests_per_second']:,}/s, p95 {_ms(r['p95_ms'])}, "
                        f"{r['non_2xx']} non-2xx{extra}",
                    )
                )
    if "total_seconds" in results:
        out.append(("total run time", f"{results['total_seconds'] / 60:.1f} min"))
    return out


def table(results: dict) -> str:
    data = rows(results)
    if any("cold" in k for k, _ in data):
        data.append(("(cold rows)", COLD_NOTE))
    width = max(len(k) for k, _ in data) + 2
    vwidth = max(len(v) for _, v in data)
    line = "+" + "-" * (width + 1) + "+" + "-" * (vwidth + 2) + "+"
    lines = [line, f"| {'measure':<{width}}| {'result':<{vwidth}} |", line]
    lines += [f"| {k:<{width}}| {v:<{vwidth}} |" for k, v in data]
    lines.append(line)
    return "\n".join(lines)


def write_json(results: dict, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": results.get("machine") or {"python": platform.python_version()}, **results}
    path.write_text(json.dumps(doc, indent=2, default=str))
