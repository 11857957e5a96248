"""Cold start (import and init) of each function against a hello-world
FastAPI + Mangum + boto3 handler, measured in the same run.

Each sample is a fresh interpreter that times `exec` of the handler module
(the Lambda runtime's init phase for our code); samples of the functions and
of the baseline are interleaved so machine noise hits both alike. The Lambda
environment is imitated (AWS_LAMBDA_FUNCTION_NAME set). `--tracing` picks the
template's TracingMode: `platform` (the default; Powertools' Tracer disabled,
Lambda's active tracing records the invocation) or `sdk` (the Tracer imports
the X-Ray SDK and patches boto3).

The probes run on `--python`: `make bench` passes an interpreter from a
virtualenv holding only the deps layer's requirements and boto3, i.e. what a
deployed function imports (the dev environment has extras, such as the
`cryptography` that moto brings and PyJWT then imports).

Each sample records the wall time and the CPU time of the init (user + system
of that interpreter): on a machine shared with other work the wall time also
counts waiting for a core, the CPU time does not, so both ratios are given.
`--python` may be given more than once (e.g. a Python 3.11 and a 3.13 runtime
virtualenv): each interpreter is one run, with its own hello world.

Usage: python bench/cold_start.py [--samples 21] [--tracing platform|sdk] [--python PATH ...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localcloud.template import cloudformation, local_path  # noqa: E402

PROBE = """
import importlib.util, sys, time
sys.path.insert(0, {shared!r})
started, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("handler_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def sample(python: str, path: Path, tracing: str) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh interpreter's init of the handler module."""
    env = {
        **os.environ,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "fxcrm",
        "POWERTOOLS_METRICS_NAMESPACE": "fxcrm",
        "POWERTOOLS_TRACE_DISABLED": "true" if tracing == "platform" else "false",
    }
    code = PROBE.format(shared=str(ROOT / "layers" / "shared"), path=str(path))
    out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def measure(python: str, functions: dict[str, Path], samples: int, tracing: str) -> dict[str, Any]:
    baseline_path = Path(__file__).parent / "hello_world" / "app.py"
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in functions} | {"hello_world": []}
    for _ in range(samples):
        times["hello_world"].append(sample(python, baseline_path, tracing))
        for name, path in functions.items():
            times[name].append(sample(python, path, tracing))
    version_code = "import sys; print(sys.version.split()[0])"
    version = subprocess.run([python, "-c", version_code], capture_output=True, text=True, check=True)
    wall = {name: statistics.median(t[0] for t in ts) for name, ts in times.items()}
    cpu = {name: statistics.median(t[1] for t in ts) for name, ts in times.items()}
    return {
        "python": version.stdout.strip(),
        "interpreter": python,
        "samples": samples,
        "tracing": tracing,
        "hello_world_median_ms": round(wall["hello_world"] * 1000, 1),
        "hello_world_cpu_ms": round(cpu["hello_world"] * 1000, 1),
        "functions": {
            name: {
                "median_ms": round(wall[name] * 1000, 1),
                "ratio": round(wall[name] / wall["hello_world"], 3),
                "cpu_ms": round(cpu[name] * 1000, 1),
                "cpu_ratio": round(cpu[name] / cpu["hello_world"], 3),
            }
            for name in functions
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=21)
    parser.add_argument("--tracing", choices=["platform", "sdk"], default="platform")
    parser.add_argument("--python", action="append", help="interpreter that runs the probes (repeatable)")
    args = parser.parse_args()
    template = cloudformation()  # transformed: the handler may come from Globals
    functions = {
        name: local_path(spec["Properties"]["Code"]) / (spec["Properties"]["Handler"].rsplit(".", 1)[0] + ".py")
        for name, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Lambda::Function"
    }
    runs = [measure(python, functions, args.samples, args.tracing) for python in args.python or [sys.executable]]
    print(json.dumps(runs, indent=2))
    for run in runs:
        print(f"Python {run['python']}: hello world {run['hello_world_median_ms']} ms", file=sys.stderr)
        for name, m in run["functions"].items():
            print(f"  {name}: {m['ratio']:.2f} (cpu {m['cpu_ratio']:.2f})", file=sys.stderr)


if __name__ == "__main__":
    main()
