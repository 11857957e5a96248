"""`python -m localcloud [--port 3000]`: the whole fxcrm on this machine."""

import argparse
import signal
import sys
import threading
import time

from localcloud.cloud import LocalCloud


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="HTTP API port (0 picks a free one)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto server port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    parser.add_argument("--no-seed", action="store_true", help="start without demo data")
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
    print("  Demo logins:")
    for user in DEMO_USERS:
        print(f"    {user.user_type:<7} {user.role:<8} {user.email:<30} {user.password}")
    if cloud.stack and cloud.stack.skipped:
        print("  Not emulated: " + ", ".join(cloud.stack.skipped))
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
