"""`python -m fxcrm.ops bootstrap --stack NAME --admin-email EMAIL`: the first
staff admin and the default catalogue of a freshly deployed stack (idempotent).
Against the local cloud: `--endpoint-url <moto URL> --table <DomainTable name>`."""

import argparse
import os
import sys
import time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fxcrm.ops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    boot = commands.add_parser("bootstrap", help="create the first admin and the default catalogue")
    where = boot.add_argument_group("which stack (one of --stack or --table)")
    where.add_argument("--stack", help="the CloudFormation stack: its outputs name the table and the sender")
    where.add_argument("--table", help="the domain table's name (instead of reading the stack)")
    where.add_argument("--endpoint-url", help="an AWS endpoint other than AWS's own (the local cloud's moto)")
    where.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    boot.add_argument("--admin-email", required=True, help="the first staff admin's address")
    boot.add_argument("--admin-name", default="Admin", help="the admin's first name")
    boot.add_argument("--ses-sender", help="mail the one-time password from this SES identity (default: the stack's)")
    boot.add_argument("--print-password", action="store_true", help="print the one-time password instead of mailing it")
    boot.add_argument("--broker-name", help="the broker's name on the portals (branding; default: a demo name)")
    boot.add_argument("--support-email", help="the support address on the portals (branding)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if bool(args.stack) == bool(args.table):
        print("give one of --stack NAME or --table NAME", file=sys.stderr)
        return 2
    # This process's configuration, read by fxcrm's settings and AWS clients as a function's is.
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region

    from fxcrm.adapters import stacks
    from fxcrm.core.settings import get_settings
    from fxcrm.ops import bootstrap

    try:
        target = stacks.find(args.stack) if args.stack else stacks.Target(args.table)
    except stacks.StackNotReady as error:
        print(str(error), file=sys.stderr)
        return 1
    sender = args.ses_sender or target.ses_sender
    os.environ["TABLE_NAME"] = target.table
    if sender:
        os.environ["SES_SENDER"] = sender
    get_settings.cache_clear()
    branding = {"email": args.support_email} if args.support_email else {}
    if args.broker_name:
        branding["broker_name_i18n"] = {"en": args.broker_name, "zh-CN": args.broker_name, "zh-TW": args.broker_name}
    report = bootstrap.run(
        get_settings(),
        bootstrap.Admin(args.admin_email, first_name=args.admin_name),
        int(time.time()),
        mail_password=bool(sender) and not args.print_password,
        console_url=target.console_url,
        branding=branding,
    )
    print(report.text())
    if report.one_time_password:
        print(f"One-time password of {args.admin_email} (shown only now): {report.one_time_password}")
        print("At the first login the admin sets a new password and two-factor login.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
