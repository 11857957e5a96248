"""The append-only audit log of staff actions and security events.

AUDIT#<yyyy-mm-dd> / <at>#<id>   one entry (actor, action, target, before/after, source address);
                                 gsi1: AUDITTARGET#<target> / <at>#<id> (the trail of one object)
"""

from fxcrm.dal.table import Item, Table


def append(entry: Item, day: str, table: Table | None = None) -> None:
    sort_key = f"{entry['at']:010d}#{entry['id']}"
    (table or Table()).put(
        {
            **entry,
            "pk": f"AUDIT#{day}",
            "sk": sort_key,
            "gsi1pk": f"AUDITTARGET#{entry['target']}",
            "gsi1sk": sort_key,
        },
        condition="attribute_not_exists(pk)",  # entries are never overwritten
    )


def trail(target: str, table: Table | None = None) -> list[Item]:
    return (table or Table()).query("gsi1pk = :pk", {":pk": f"AUDITTARGET#{target}"}, index="gsi1")


def day(day_text: str, table: Table | None = None) -> list[Item]:
    """Every entry of a day (UTC), oldest first."""
    return (table or Table()).query("pk = :pk", {":pk": f"AUDIT#{day_text}"})
