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

Usage: python bench/cold_start.py [--samples 21] [--tracing platform|sdk] [--python PATH]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from localcloud.template import cloudformation, local_path  # noqa: E402

PROBE = """
import importlib.util, sys, time
sys.path.insert(0, {shared!r})
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assert callable(module.handler)
print(time.perf_counter() - started)
"""


def sample(python: str, path: Path, tracing: str) -> float:
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
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=21)
    parser.add_argument("--tracing", choices=["platform", "sdk"], default="platform")
    parser.add_argument("--python", default=sys.executable, help="interpreter that runs the probes")
    args = parser.parse_args()
    template = cloudformation()  # transformed: the handler may come from Globals
    functions = {
        name: local_path(spec["Properties"]["Code"]) / (spec["Properties"]["Handler"].rsplit(".", 1)[0] + ".py")
        for name, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Lambda::Function"
    }
    baseline_path = Path(__file__).parent / "hello_world" / "app.py"
    times: dict[str, list[float]] = {name: [] for name in functions} | {"hello_world": []}
    for _ in range(args.samples):
        times["hello_world"].append(sample(args.python, baseline_path, args.tracing))
        for name, path in functions.items():
            times[name].append(sample(args.python, path, args.tracing))
    baseline = statistics.median(times["hello_world"])
    result = {
        "python": sys.version.split()[0],
        "samples": args.samples,
        "tracing": args.tracing,
        "interpreter": args.python,
        "hello_world_median_ms": round(baseline * 1000, 1),
        "functions": {
            name: {
                "median_ms": round(statistics.median(t) * 1000, 1),
                "ratio": round(statistics.median(t) / baseline, 3),
            }
            for name, t in times.items()
            if name != "hello_world"
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
