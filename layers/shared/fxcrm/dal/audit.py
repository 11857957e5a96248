"""The append-only audit log of staff actions and security events.

AUDIT#<yyyy-mm-dd> / <at>#<id>   one entry (actor, action, target, before/after, source address);
                                 gsi1: AUDITTARGET#<target> / <at>#<id> (the trail of one object);
                                 gsi2: AUDITACTOR#<actor email> / <at>#<id> (one actor's entries)
COUNT#audit / <yyyy-mm-dd>#<shard>  the day's entries (fxcrm.dal.counts), written with each entry
"""

from datetime import UTC, date, datetime, time

from fxcrm.dal import counts, listing
from fxcrm.dal.table import Item, Table, to_ddb, transact

DAY_COUNTER = counts.Counter("audit", shards=4)  # every staff action of the day writes it


def append(entry: Item, day: str, table: Table | None = None) -> None:
    table = table or Table()
    sort_key = f"{entry['at']:010d}#{entry['id']}"
    item = {
        **entry,
        "pk": f"AUDIT#{day}",
        "sk": sort_key,
        "gsi1pk": f"AUDITTARGET#{entry['target']}",
        "gsi1sk": sort_key,
        **({"gsi2pk": f"AUDITACTOR#{entry['actor_email']}", "gsi2sk": sort_key} if entry.get("actor_email") else {}),
    }
    put = {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(item),
            "ConditionExpression": "attribute_not_exists(pk)",  # entries are never overwritten
        }
    }
    transact(table.client, [put, counts.change(table, DAY_COUNTER, day)])


def trail(target: str, table: Table | None = None) -> list[Item]:
    return (table or Table()).query("gsi1pk = :pk", {":pk": f"AUDITTARGET#{target}"}, index="gsi1")


def day(day_text: str, table: Table | None = None) -> list[Item]:
    """Every entry of a day (UTC), oldest first."""
    return (table or Table()).query("pk = :pk", {":pk": f"AUDIT#{day_text}"})


def _day_range(day_text: str) -> Item:
    start = int(datetime.combine(date.fromisoformat(day_text), time(), UTC).timestamp())
    return {":start": f"{start:010d}#", ":end": f"{start + 86399:010d}#~"}


def day_part(day_text: str, actor: str | None, action: str | None, target: str | None) -> listing.Part:
    """The day's entries on the narrowest key the filters give: the target's
    trail or the actor's entries within the day, else the day itself. What no
    key narrows (an action prefix; a second of target and actor) filters that
    range: at most one object's or one actor's entries of one day, or the day."""
    names: dict[str, str] = {}
    values: Item = {}
    where: list[str] = []
    if target:
        condition, index = "gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end", "gsi1"
        values = {":pk": f"AUDITTARGET#{target}", **_day_range(day_text)}
        if actor:
            where.append("#actor = :actor")
    elif actor:
        condition, index = "gsi2pk = :pk AND gsi2sk BETWEEN :start AND :end", "gsi2"
        values = {":pk": f"AUDITACTOR#{actor}", **_day_range(day_text)}
    else:
        condition, index = "pk = :pk", None
        values = {":pk": f"AUDIT#{day_text}"}
    if actor and target:
        names["#actor"], values[":actor"] = "actor_email", actor
    if action:
        where.append("begins_with(#action, :action)")
        names["#action"], values[":action"] = "action", action
    return listing.Part(condition, values, index, names, " AND ".join(where) or None)


def day_page(
    day_text: str, actor: str | None, action: str | None, target: str | None, number: int, size: int
) -> list[Item]:
    """Page `number` of the day's entries that match, newest first."""
    part = day_part(day_text, actor, action, target)
    return listing.page(Table(), [part], number, size, order=lambda item: str(item["sk"]))


def day_total(day_text: str, actor: str | None, action: str | None, target: str | None) -> int:
    """The day's counter without filters; with filters, a count of the range
    `day_part` reads (bounded by one object's, one actor's or one day's entries)."""
    table = Table()
    if not (actor or action or target):
        return counts.total(table, DAY_COUNTER, [day_text])
    return day_part(day_text, actor, action, target).count(table)
