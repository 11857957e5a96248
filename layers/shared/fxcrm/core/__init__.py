"""The kernel: what every layer uses (settings, errors, ids, the clock,
observability, money, wire times, the caller, shared pydantic types, paging).
It imports nothing of fxcrm outside itself."""
