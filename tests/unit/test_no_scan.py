"""No request path reads a whole table: the code never calls Scan."""

import re

from localcloud.template import ROOT


def test_no_code_calls_scan() -> None:
    sources = [*(ROOT / "layers" / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in sources if re.search(r"\.scan\(|[\"']Scan[\"']", p.read_text())]
    assert sources and offenders == []
