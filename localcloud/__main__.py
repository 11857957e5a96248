"""`python -m localcloud [--port 3000]`: the whole fxcrm on this machine."""

import argparse
import signal
import sys
import threading
import time
from collections import Counter

from localcloud.cloud import LocalCloud


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (0 picks a free one)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto server port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    parser.add_argument(
        "--no-seed", action="store_true", help="start empty, as a fresh deploy (then: python -m fxcrm.ops bootstrap)"
    )
    args = parser.parse_args()

    started = time.monotonic()
    cloud = LocalCloud(port=args.port, moto_port=args.moto_port, host=args.host, seed=not args.no_seed).start()
    from localcloud.seed import DEMO_USERS

    print(f"fxcrm local cloud ready in {time.monotonic() - started:.1f}s", flush=True)
    print(f"  API          {cloud.url}")
    print(f"  OpenAPI      {cloud.url}/openapi.json")
    print(f"  Swagger UI   {cloud.url}/docs")
    print(f"  Console      {cloud.url}/admin/console  (staff; TOTP set up at the first login)")
    print(f"  Dev mailbox  {cloud.url}/_dev/mailbox?to=<email>")
    print(f"  Captcha      {cloud.url}/_dev/captcha?randstr=<random>")
    print(f"  Schedules    {cloud.url}/_dev/schedules/run?function=TradeSyncFlow  (also on their timers)")
    print(f"  AWS (moto)   {cloud.moto_url}  (AWS_ENDPOINT_URL for the aws CLI / boto3)")
    if args.no_seed and cloud.stack:
        table = cloud.stack.environment()["TABLE_NAME"]
        print("  Empty: no users. The first admin and the default catalogue, as on AWS:")
        print(f"    python -m fxcrm.ops bootstrap --endpoint-url {cloud.moto_url} --table {table} --admin-email <you>")
        print("    (PYTHONPATH=layers/shared; --print-password, or --ses-sender <SesSender> for the dev mailbox)")
    else:
        print("  Demo logins:")
        for user in DEMO_USERS:
            print(f"    {user.user_type:<7} {user.role:<8} {user.email:<30} {user.password}")
    if cloud.stack and cloud.stack.skipped:
        # "Name (Type)" each; the alarms and the dashboard only as their count
        kinds = Counter(entry.rsplit(" (", 1)[1].rstrip(")") for entry in cloud.stack.skipped)
        named = [
            e
            for e in cloud.stack.skipped
            if not e.endswith(("(AWS::CloudWatch::Alarm)", "(AWS::CloudWatch::Dashboard)"))
        ]
        counted = [f"{kinds[k]} {k}" for k in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard") if kinds[k]]
        print("  Not emulated: " + ", ".join(named + counted))
    print("Press Ctrl-C to stop.", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    print("stopping...", flush=True)
    cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
