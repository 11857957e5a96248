"""schemathesis's default checks against the published /openapi.json."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, start_cloud, stop_cloud

pytestmark = pytest.mark.e2e


def test_openapi_passes_schemathesis_default_checks() -> None:
    # A cloud of its own: the fuzzer spends the per-address email-code allowance.
    cloud = start_cloud("schemathesis")
    try:
        token = cloud.login("admin@broker.example.com", "Admin-demo-2026").json()["token"]
        cli = Path(sys.executable).parent / "schemathesis"
        result = subprocess.run(
            [
                str(cli),
                "--config-file",
                str(Path(__file__).parent / "schemathesis.toml"),
                "run",
                f"{cloud.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {token}",
                "--seed",
                "20261121",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        stop_cloud(cloud)
    (ARTIFACTS / "schemathesis.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "12/12" in result.stdout  # every operation was selected and tested
