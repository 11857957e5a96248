"""How a list's window is split for its counters (fxcrm.dal.counts.window):
whole months and days read from buckets, partial days left to a bounded
query, in the broker's time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fxcrm.core import times
from fxcrm.core.errors import InvalidInput
from fxcrm.dal import counts


def at(text: str, zone: str = "UTC") -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone)).timestamp())


NOW = at("2026-12-01 12:00:00")


def test_whole_months_and_days_are_buckets_and_partial_days_are_edges() -> None:
    split = counts.window(at("2026-09-29 00:00:00"), at("2026-11-03 23:59:59"), NOW, "UTC")
    assert split.buckets == ("d2026-09-29", "d2026-09-30", "m2026-10", "d2026-11-01", "d2026-11-02", "d2026-11-03")
    assert split.edges == ()
    partial = counts.window(at("2026-11-02 10:00:00"), at("2026-11-04 08:00:00"), NOW, "UTC")
    assert partial.buckets == ("d2026-11-03",)
    assert partial.edges == (
        (at("2026-11-02 10:00:00"), at("2026-11-02 23:59:59")),
        (at("2026-11-04 00:00:00"), at("2026-11-04 08:00:00")),
    )
    assert partial.months() == {"2026-11": ["d2026-11-03"]}


def test_a_window_reaching_now_counts_its_last_day_whole_and_one_inside_a_day_is_an_edge() -> None:
    assert counts.window(at("2026-12-01 00:00:00"), times.FOREVER, NOW, "UTC") == counts.Window(("d2026-12-01",), ())
    inside = counts.window(at("2026-11-05 01:00:00"), at("2026-11-05 02:00:00"), NOW, "UTC")
    assert (inside.buckets, inside.edges) == ((), ((at("2026-11-05 01:00:00"), at("2026-11-05 02:00:00")),))
    assert counts.window(NOW + 10, NOW + 20, NOW, "UTC") == counts.Window((), ())


def test_buckets_follow_the_brokers_time_zone() -> None:
    zone = "Asia/Shanghai"
    assert counts.time_buckets(at("2026-11-30 23:30:00", zone), zone) == ["d2026-11-30", "m2026-11"]
    split = counts.window(at("2026-11-01 00:00:00", zone), at("2026-11-30 23:59:59", zone), NOW, zone)
    assert (split.buckets, split.edges) == (("m2026-11",), ())


def test_the_default_and_longest_window() -> None:
    first, last = times.bounded(0, times.FOREVER, NOW, "UTC", start_given=False)
    assert (first, last) == (at("2026-09-03 00:00:00"), times.FOREVER)  # 90 days, from the first day's start
    with pytest.raises(InvalidInput) as refused:
        times.bounded(at("2025-11-01 00:00:00"), times.FOREVER, NOW, "UTC", start_given=True)
    assert (refused.value.field, refused.value.code) == ("start_time", "window_too_long")
    assert times.bounded(at("2025-12-01 00:00:00"), NOW, NOW, "UTC", start_given=True)[0] == at("2025-12-01 00:00:00")
