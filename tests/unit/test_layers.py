"""The layers point one way (docs/architecture.md, "Layers"): kernel -> data
access -> adapters -> domain -> web -> functions, with no package cycle, and
boto3/botocore only in data access and adapters. import-linter checks the
contracts in pyproject.toml; these tests run it on the code and on copies with
one wrong import each, which it must refuse."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(shared: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join((str(shared), str(ROOT)))}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT / "layers" / "shared", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        # the kernel reaching up into the domain
        ("core/ids.py", "from fxcrm.funding import orders", "kernel -> data access"),
        # data access reaching up into an adapter
        ("dal/users.py", "from fxcrm.adapters import mail", "kernel -> data access"),
        # a sideways import that would make funding <-> trading a cycle again
        ("trading/sync.py", "from fxcrm.funding import orders", "kernel -> data access"),
        # approvals calling back into funding
        ("approvals/workflow.py", "from fxcrm.funding import withdrawals", "kernel -> data access"),
        # a domain module handling AWS errors itself
        ("kyc/profile.py", "from botocore.exceptions import ClientError", "boto3 and botocore only"),
        # a domain module making its own boto3 client
        ("ib/portal.py", "from fxcrm.dal import aws", "the domain calls AWS only through adapters"),
        # a cycle inside a package
        ("auth/tokens.py", "from fxcrm.auth import accounts", "no package cycles"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path: Path, module: str, wrong_import: str, broken: str) -> None:
    shared = tmp_path / "layers" / "shared"
    shutil.copytree(
        ROOT / "layers" / "shared" / "fxcrm", shared / "fxcrm", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = shared / "fxcrm" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # deliberately wrong\n")
    result = lint_imports(shared, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken_lines = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    # an import against the direction usually closes a cycle too, so both may break
    assert any(line.startswith(broken) for line in broken_lines), result.stdout


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_boto3_and_botocore_are_imported_only_under_dal_and_adapters() -> None:
    fxcrm = ROOT / "layers" / "shared" / "fxcrm"
    allowed = (fxcrm / "dal", fxcrm / "adapters")
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in [*fxcrm.rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
        if _imports(path) & {"boto3", "botocore"}
        and not path.is_relative_to(allowed[0])
        and not path.is_relative_to(allowed[1])
    ]
    assert offenders == []
    # and they are used there (the test would pass vacuously on a renamed package)
    assert _imports(fxcrm / "dal" / "aws.py") >= {"boto3", "botocore"}
