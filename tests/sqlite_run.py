"""The embedded default's database, tested for real: one pytest run on an SQLite file with
the local settings runs every `*_on_sqlite` test of MODULES (they skip on PostgreSQL).
The PostgreSQL-side test of each module calls `sqlite_run()` and checks its own cases;
the run happens once per process (both callers share the xdist group "sqlite"), so the
migrations are applied to SQLite once, not once per module."""

import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("tests/sla/test_sqlite_sweep.py", "tests/search/test_sqlite_search.py")


@cache
def sqlite_run() -> tuple[int, str]:
    """(exit code, output) of the one SQLite run; `-v` lists each test with its outcome."""
    directory = Path(tempfile.mkdtemp(prefix="tandem-sqlite-run-"))
    var = directory / "var"
    for sub in ("broker/queue", "broker/processed"):
        (var / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tracker.settings.local",  # the embedded defaults
            "DATABASE_URL": f"sqlite:///{directory / 'tandem.sqlite3'}",
            "TANDEM_VAR_DIR": str(var),
        }
    )
    run = subprocess.run(  # noqa: S603 - our own interpreter running our own tests
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:randomly",
         "--ds=tracker.settings.local", "-k", "on_sqlite", "-rs", *MODULES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    return run.returncode, run.stdout + run.stderr


def outcomes(module: str) -> dict[str, str]:
    """Test id (with parameters) → PASSED/FAILED/SKIPPED/ERROR for one module of the run."""
    _, out = sqlite_run()
    found = re.findall(rf"^{re.escape(module)}::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", out, re.MULTILINE)
    return dict(found)
