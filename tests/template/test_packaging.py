"""The deps layer is a lock (layers/deps/requirements.txt, compiled from
requirements.in by `make lock`): every transitive package pinned with its hashes,
installed with --require-hashes, buildable for the deploy runtime (python3.13 on
arm64, Amazon Linux 2023) from binary wheels alone; boto3 and botocore are in it as
a deliberate pin, and the test environment runs exactly the locked versions."""

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from localcloud.template import ROOT, load_template

DEPS = ROOT / "layers" / "deps"
LOCK = DEPS / "requirements.txt"
# Lambda's python3.13 is Amazon Linux 2023 (glibc 2.34): every manylinux wheel up to 2_34 runs there.
PLATFORMS = ["manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35))]
# The Lambda runtime's environment, for the dependencies' markers.
RUNTIME_MARKERS = default_environment() | {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "platform_machine": "aarch64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "implementation_name": "cpython",
}


def _pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a requirements file; every requirement line must be `==`."""
    text = path.read_text().replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        spec, *hashes = line.split("--hash=")
        found = re.fullmatch(r"([A-Za-z0-9._-]+)(\[[a-z,]+\])?==([0-9][0-9A-Za-z.+!-]*)", spec.strip())
        assert found, f"{path.name}: not pinned with ==: {line!r}"
        pins[canonicalize_name(found.group(1))] = (found.group(3), [h.strip() for h in hashes])
    return pins


def test_the_lock_pins_every_package_with_hashes_and_requires_them() -> None:
    lines = [line for line in LOCK.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "--require-hashes"  # pip, and so `sam build`, refuse any file without its hash
    lock = _pins(LOCK)
    for name, (_, hashes) in lock.items():
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name
    for name, (version, _) in _pins(DEPS / "requirements.in").items():
        assert lock.get(name, ("missing",))[0] == version, f"requirements.in pins {name}=={version}; relock"


def test_the_lock_is_complete_for_the_runtime() -> None:
    """Every dependency of every locked package (markers as on python3.13/arm64) is locked too."""
    lock = _pins(LOCK)
    missing = set()
    for name in lock:
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = [{**RUNTIME_MARKERS, "extra": extra} for extra in ("", *_extras(name))]
            applies = requirement.marker is None or any(requirement.marker.evaluate(env) for env in wanted)
            if applies and canonicalize_name(requirement.name) not in lock:
                missing.add(f"{requirement.name} (for {name})")
    assert not missing, sorted(missing)


def _extras(name: str) -> list[str]:
    """The extras requirements.in asks of a package (aws-lambda-powertools[tracer])."""
    text = (DEPS / "requirements.in").read_text()
    found = re.search(rf"^{re.escape(name)}\[([a-z,]+)\]", text, re.MULTILINE | re.IGNORECASE)
    return found.group(1).split(",") if found else []


def test_the_tests_run_on_the_locked_versions_and_boto3_is_a_deliberate_pin() -> None:
    lock = _pins(LOCK)
    # Powertools' tracer needs botocore, so the layer carries it: pinned, with its boto3 (requirements.in says why)
    assert {"boto3", "botocore", "s3transfer"} <= set(lock)
    assert "deliberate pin" in (DEPS / "requirements.in").read_text()
    differ = {name: (version, metadata.version(name)) for name, (version, _) in lock.items()}
    assert {n: v for n, v in differ.items() if v[0] != v[1]} == {}, "the environment is not the lock: make again"


def test_every_install_of_the_layer_checks_the_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "-r layers/deps/requirements.txt" in line]
    assert len(installs) >= 2 and all("--require-hashes" in line for line in installs), installs
    # the dev requirements take the direct pins, never the lock without its hash check
    dev = [line.strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-r layers/deps/requirements.in" in dev and "-r layers/deps/requirements.txt" not in dev


def test_deps_layer_resolves_to_arm64_python313_wheels(tmp_path: Path) -> None:
    """pip in hash-checking mode (the lock's first line) refuses a package that is not
    locked or whose file has another hash: this download is what `sam build` installs."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(LOCK),
            *(option for platform in PLATFORMS for option in ("--platform", platform)),
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
