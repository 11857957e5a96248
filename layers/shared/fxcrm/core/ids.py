"""Integer ids below 2**53 (safe in JavaScript), made without a counter item.

41 bits of milliseconds since 2024-01-01 (about 69 years) and a 12-bit
sequence. Within a process ids strictly increase and never repeat: the
sequence starts at a random point in the lower half each millisecond and
counts up, borrowing the next millisecond when it runs out. Across Lambda
instances the random start makes a clash rare, and writers put new items with
`attribute_not_exists`, so a clash is a retry, never an overwrite.
"""

import secrets
import threading
import time

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_SEQUENCE_BITS = 12
_SEQUENCE_LIMIT = 1 << _SEQUENCE_BITS

_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def new_id() -> int:
    global _last_ms, _sequence
    with _lock:
        millis = int(time.time() * 1000) - _EPOCH_MS
        if millis > _last_ms:
            _last_ms, _sequence = millis, secrets.randbits(_SEQUENCE_BITS - 1)
        else:
            _sequence += 1
            if _sequence >= _SEQUENCE_LIMIT:
                _last_ms, _sequence = _last_ms + 1, secrets.randbits(_SEQUENCE_BITS - 1)
        return (_last_ms << _SEQUENCE_BITS) | _sequence
