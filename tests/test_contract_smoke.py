"""The shared contract smoke script walks the API's happy path against a live Tandem."""

import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = Path(__file__).resolve().parent.parent.parent / "shared" / "contract_smoke.py"


@pytest.mark.skipif(not SMOKE.exists(), reason="../shared/contract_smoke.py is not beside this checkout")
@pytest.mark.django_db(transaction=True)
def test_contract_smoke_reports_no_missing_names(live_server, admin_user, password):
    result = subprocess.run(
        [
            sys.executable,
            str(SMOKE),
            "--base",
            live_server.url,
            "--user",
            admin_user.username,
            "--password",
            password,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 contract names missing or different" in result.stdout
