"""Free text as people type it (names, addresses, reasons, remarks, bank
details, KYC answers): any printable character of any script, but nothing that
steers a terminal, splits a log line or a CSV row, or flips the direction in
which a reviewer reads the text.

One rule for every free-text field: `FreeText` in request models, and
`check_free_text` for values checked outside a model (KYC modules)."""

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls (NUL, TAB, LF, CR, ESC, ...), DEL and the C1 controls; the line and
# paragraph separators; the bidi embeddings and overrides (U+202A-U+202E) and
# isolates (U+2066-U+2069), which reorder what a reviewer sees.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def check_free_text(value: str) -> str:
    """The value unchanged, or ValueError naming the first character refused."""
    found = FORBIDDEN.search(value)
    if found:
        raise ValueError(
            f"must not contain control or text-direction characters (U+{ord(found.group()):04X} at {found.start()})"
        )
    return value


FreeText = Annotated[str, AfterValidator(check_free_text)]
