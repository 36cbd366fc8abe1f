"""Throughput under a real server: gunicorn with the production settings, loaded by wrk
against 127.0.0.1 only, for a bounded time per endpoint."""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from .measure import BenchmarkFailure

ROOT = Path(settings.BASE_DIR)

LUA = """
local counter = 0
local body_fmt = %(body)s
wrk.method = "%(method)s"
wrk.headers["Authorization"] = "Token %(token)s"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Host"] = "127.0.0.1"
request = function()
  counter = counter + 1
  if body_fmt == nil then
    return wrk.format(nil, nil, nil, nil)
  end
  return wrk.format(nil, nil, nil, string.format(body_fmt, math.random(1, 1000000000), counter))
end
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCHRESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non2xx\\": %%d, \\"connect\\": %%d, "
    .. "\\"read\\": %%d, \\"timeout\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def production_env(database_url, redis_url, port):
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tracker.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            # One token drives all the load: lift the per-user API throttle (it still runs,
            # with its cache round trips) so wrk measures the endpoints, not 429s.
            "API_THROTTLE_RATE": os.environ.get("TANDEM_BENCH_THROTTLE_RATE", "10000000/min"),
            "STATIC_ROOT": str(ROOT / "var" / "bench-static"),
        }
    )
    return env


class Gunicorn:
    """`with Gunicorn(env, port, workers) as url:` a production server on 127.0.0.1."""

    def __init__(self, env, port, workers=4, log_path=None):
        self.env, self.port, self.workers = env, port, workers
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"tandem-bench-gunicorn-{port}.log"

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "tracker.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "60",
             "--access-logfile", "-", "--access-logformat", '%(s)s %(m)s %(U)s %(M)sms'],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return url
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not answer /healthz in 60 s; see {self.log_path}")

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return False


def wrk(url, token, *, method="GET", body=None, seconds=20, connections=8, threads=2):
    """Run wrk for `seconds` and return requests/s, p50/p95/p99 (ms) and error counts."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    lua_body = (
        "nil" if body is None else json.dumps(json.dumps(body).replace("%", "%%").replace("@N@", "%d-%d"))
    )
    script = LUA % {"body": lua_body, "method": method, "token": token}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        out = subprocess.run(  # noqa: S603 - wrk from PATH with our own arguments
            [shutil.which("wrk"), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "10s", "-s", path, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(path)
    match = re.search(r"BENCHRESULT (\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    r = json.loads(match.group(1))
    seconds_run = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "requests_per_second": round(r["requests"] / seconds_run, 1),
        "p50_ms": round(r["p50_us"] / 1000, 1),
        "p95_ms": round(r["p95_us"] / 1000, 1),
        "p99_ms": round(r["p99_us"] / 1000, 1),
        "non_2xx": r["non2xx"],
        "socket_errors": r["connect"] + r["read"] + r["timeout"],
        "seconds": round(seconds_run, 1),
        "connections": connections,
    }


def throughput(database_url, redis_url, token, service_id, *, port, workers, seconds, connections, log):
    """Collect static files once, start gunicorn on the bench database, load the list and
    the create endpoints in turn. Returns per-endpoint figures and how many 201s stuck."""
    from incidents.models import Incident

    env = production_env(database_url, redis_url, port)
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    out = {"workers": workers, "settings": "tracker.settings.production"}
    with Gunicorn(env, port, workers) as url:
        log(f"  gunicorn ({workers} sync workers, production settings) on {url}")
        # warm every worker (imports, first connection) before measuring
        wrk(f"{url}/api/v1/incidents/?page_size=50", token, seconds=3, connections=connections)
        out["incident list"] = wrk(
            f"{url}/api/v1/incidents/?page_size=50", token, seconds=seconds, connections=connections
        )
        log(f"  GET list:    {_line(out['incident list'])}")
        before = Incident.objects.count()
        body = {"title": "Load test incident @N@", "description": "Created under load by wrk.",
                "service": service_id, "impact": "medium", "urgency": "high", "type": "incident"}  # fmt: skip
        out["incident create"] = wrk(
            f"{url}/api/v1/incidents/",
            token,
            method="POST",
            body=body,
            seconds=seconds,
            connections=connections,
        )
        created = Incident.objects.count() - before
        out["incident create"]["created_rows"] = created
        log(f"  POST create: {_line(out['incident create'])}, rows created {created}")
    for label, r in out.items():
        if isinstance(r, dict) and (r["non_2xx"] or r["socket_errors"]):
            raise BenchmarkFailure(
                f"gunicorn {label}: {r['non_2xx']} non-2xx answers and {r['socket_errors']} socket errors "
                f"of {r['requests']} requests"
            )
    made = out["incident create"]
    # wrk may stop with requests in flight that the server still stores: more rows than
    # answers is fine, fewer means answered writes were lost.
    if made["created_rows"] < made["requests"]:
        raise BenchmarkFailure(
            f"gunicorn incident create: {made['requests']} requests answered 2xx but {made['created_rows']} "
            "rows stored"
        )
    return out


def _line(r):
    return (
        f"{r['requests_per_second']:7.1f} req/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
        f"({r['requests']} requests, {r['non_2xx']} non-2xx, {r['socket_errors']} socket errors)"
    )
