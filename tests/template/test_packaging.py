"""The deps layer can be built for the deploy runtime (python3.13 on arm64)
from binary wheels alone, as `sam build` will need."""

import subprocess
import sys
from pathlib import Path

from localcloud.template import ROOT, load_template


def test_deps_layer_resolves_to_arm64_python313_wheels(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(ROOT / "layers" / "deps" / "requirements.txt"),
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--only-binary=:all:",
            "-d",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    wheels = [p.name for p in tmp_path.glob("*.whl")]
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled, wheels
    assert all("aarch64" in w for w in compiled), compiled  # no x86_64 binary slipped in
    assert any(w.startswith("pydantic_core-") and "cp313" in w for w in wheels)
    assert any(w.startswith("argon2_cffi_bindings-") for w in wheels)


def test_template_runtime_matches_what_the_packaging_test_builds_for() -> None:
    function_globals = load_template()["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    for layer in ("SharedLayer", "DepsLayer"):
        metadata = load_template()["Resources"][layer]["Metadata"]
        assert metadata == {"BuildMethod": "python3.13", "BuildArchitecture": "arm64"}
