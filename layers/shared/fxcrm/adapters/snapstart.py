"""SnapStart (template parameter `SnapStart=on`; docs/operations.md, SnapStart).

Lambda snapshots a function's memory after init and starts every cold instance
from a copy of it, so what init made once would be shared by all the copies:
boto3 clients whose connections and credentials belong to the snapshot, the
secrets read at init (the token signing key), and the `random` module's state
(every copy would draw the same numbers). The runtime calls `after_restore` in
each copy before its first request. `secrets` and the ids (`fxcrm.core.ids`)
read the OS's randomness on every call, so they need nothing."""

import random

from fxcrm.adapters import secrets
from fxcrm.core.observability import logger
from fxcrm.dal import aws


def after_restore() -> None:
    aws.reset_clients()  # new clients, connections and credentials on first use
    secrets.clear_cache()  # read the secrets again
    random.seed()  # from the OS, per copy
    logger.info("restored from a SnapStart snapshot: clients, secrets and randomness refreshed")


def install() -> bool:
    """Register `after_restore` with the Lambda runtime's hook; False where there is
    none (outside Lambda, locally, in tests)."""
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True
