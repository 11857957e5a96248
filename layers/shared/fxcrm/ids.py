"""Integer ids below 2**53 (safe in JavaScript), made without a counter item.

41 bits of milliseconds since 2024-01-01 (about 69 years) and 12 random bits.
Writers put new items with `attribute_not_exists`, so the rare collision is a
retry, never an overwrite.
"""

import secrets
import time

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_RANDOM_BITS = 12


def new_id() -> int:
    millis = int(time.time() * 1000) - _EPOCH_MS
    return (millis << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS)
