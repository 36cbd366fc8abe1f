"""Fault-injection helpers for the reliability tests: a throw-away redis-server on a spare
port, a real Celery worker pointed at any broker and database, and the fault record the
battery's summary is made from."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
REDIS_PORTS = range(6390, 6400)  # reserved for this battery's own redis-servers


def _ports_of_this_xdist_worker(ports: range) -> range:
    """Each pytest-xdist worker takes every Nth port of the range, so two workers never pick
    the same port (a test stops its redis-server and starts it again on the same port)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return ports
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return ports[int(worker[2:]) % count :: count]


def free_port(candidates) -> int:
    for port in candidates:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port among {list(candidates)}")


class RedisServer:
    """A redis-server we start, stop and start again on one spare port (never 6379)."""

    def __init__(self, port=None):
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed")
        self.port = port or free_port(_ports_of_this_xdist_worker(REDIS_PORTS))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None


def database_url(settings_dict) -> str:
    s = settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


class Worker:
    """A real `celery worker --beat` as its own process group, so it can be SIGKILLed whole."""

    def __init__(
        self, *, broker_url, db_url, name, sweep_seconds=2, pool="prefork", concurrency=2, extra_env=None
    ):
        self.broker_url, self.db_url, self.name = broker_url, db_url, name
        self.sweep_seconds, self.pool, self.concurrency = sweep_seconds, pool, concurrency
        self.extra_env = extra_env or {}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"reliability-worker-{name}.log"
        self.proc = None

    def start(self, timeout=60):
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tracker.settings.test",
                "DATABASE_URL": self.db_url,
                "CELERY_BROKER_URL": self.broker_url,
                "REDIS_URL": self.broker_url,
                "SLA_SWEEP_SECONDS": str(self.sweep_seconds),
                **self.extra_env,
            }
        )
        self.log = open(self.log_path, "a")  # noqa: SIM115
        self.log.write(f"\n===== start {time.strftime('%H:%M:%S')}\n")
        self.log.flush()
        start_offset = self.log_path.stat().st_size
        schedule = ARTIFACTS / f"reliability-beat-{self.name}-{os.getpid()}"
        for suffix in ("", ".db", ".dat", ".dir", ".bak"):
            Path(str(schedule) + suffix).unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tracker",
                "worker",
                "--beat",
                "--loglevel=info",
                f"--pool={self.pool}",
                f"--concurrency={self.concurrency}",
                "-n",
                f"rel-{self.name}-{os.getpid()}@%h",
                "--schedule",
                str(schedule),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited early; see {self.log_path}")
            with open(self.log_path) as fh:
                fh.seek(start_offset)
                if "ready." in fh.read():
                    return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"celery worker not ready in {timeout} s; see {self.log_path}")

    def kill(self, sig=signal.SIGKILL):
        """Signal the whole process group (main process, pool children, beat)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None


def record(test: str, *, faults: list[str], checked: int, lost: int, notes: str = ""):
    """Append one result line to the battery's report file (when the battery asked for one)."""
    path = os.environ.get("TANDEM_RELIABILITY_REPORT")
    if not path:
        return
    with open(path, "a") as fh:
        fh.write(
            json.dumps({"test": test, "faults": faults, "checked": checked, "lost": lost, "notes": notes})
            + "\n"
        )
