"""schemathesis's default checks against the published /openapi.json."""

import subprocess
import sys
from pathlib import Path

import pytest

from localcloud.openapi import combined_openapi
from tests.support.http_journeys import ARTIFACTS, start_cloud, stop_cloud


def cloud_paths() -> dict[str, dict[str, object]]:
    return dict(combined_openapi()["paths"])


pytestmark = pytest.mark.e2e


@pytest.mark.timeout(1500)  # about 110 operations, each covered and fuzzed, on moto
def test_openapi_passes_schemathesis_default_checks() -> None:
    # A cloud of its own: the fuzzer spends the per-address email-code allowance.
    cloud = start_cloud("schemathesis")
    try:
        # A client's token: most operations are the client portal's (staff routes answer 403).
        token = cloud.login("client2@broker.example.com", "Client-demo-2026").json()["token"]
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
                "--workers",
                "2",  # the local cloud serves requests on threads; the machine has two cores
            ],
            capture_output=True,
            text=True,
            timeout=1400,
            check=False,
        )
    finally:
        stop_cloud(cloud)
    (ARTIFACTS / "schemathesis.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
    operations = len([1 for ops in cloud_paths().values() for _ in ops])
    assert f"{operations}/{operations}" in result.stdout  # every operation was selected and tested
    assert "Stateful (not applicable)" not in result.stdout  # the declared links were followed
