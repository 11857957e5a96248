"""`make verify-ledger`: recompute every ledger balance from its postings.

By default it checks the running local cloud, which it asks where its AWS
endpoint and table are. With `--table <DomainTableName>` it checks that table
on AWS with the ambient credentials instead. Exit status 1 when any balance
or transaction disagrees."""

import argparse
import json
import os
import sys
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the local cloud's URL")
    parser.add_argument("--table", help="a deployed stack's domain table: check it on AWS")
    args = parser.parse_args(argv)
    if args.table:
        os.environ["TABLE_NAME"] = args.table
    else:
        with urllib.request.urlopen(f"{args.url}/_dev/environment", timeout=10) as reply:  # noqa: S310 - loopback
            os.environ.update(json.load(reply))
    from localcloud.functions import mount_layers

    mount_layers()
    from fxcrm.ledger.verify import main as verify

    return verify()


if __name__ == "__main__":
    sys.exit(main())
