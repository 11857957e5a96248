"""The IB ancestor index: what an IB's downline views list, written under
every IB above it in the tree at the time, so a downline view is one Query
(or a merge of a few) under the IB's own keys, however many clients, sub-IBs
and levels the downline has.

IBDOWN#<ib id> / USER#<user id, 16 digits>
    a user (client or sub-IB) somewhere below the IB: `level` (1 = direct),
    `via` (the IB directly above the user), `user_type`, `created_at`, `email`,
    `name_search`, `kyc` (approved or other), `status` (enabled or disabled);
    gsi2: IBDOWNUSERS#<ib id>#<user type>#<kyc>#<status> / <created_at>#<user id>
    (one partition per combination of the seed's two flag filters)
IBDOWN#<ib id> / TACCT#<account id, 16 digits>
    a trading account of a user below the IB: `account_id`, `user_id`,
    `login`, `type_name`, `created_at`, `email`, `name_search`, `level`;
    gsi1: IBDOWNACCTS#<ib id> / <created_at>#<account id>;
    gsi2: IBDOWNLOGIN#<ib id>#<login> / <created_at>#<account id> (the login filter)

Totals are counters (`fxcrm.dal.counts`) changed in the same transaction as
the entry: `ibusers#<ib id>#<user type>#<kyc>#<status>` and `ibaccts#<ib id>`,
one bucket (`all`) each.

The entries show the tree as it is now: a move (back office, effective-dated)
takes the moved user's entries, its accounts' and those of its whole downline
(a sub-IB's) from the IBs it leaves and writes them under the IBs it joins,
with the new levels. Commission details stay with the IB that earned them."""

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from fxcrm.core.caller import full_name, name_key
from fxcrm.dal import counts
from fxcrm.dal.table import Item, Table, is_condition_failure, to_ddb, values

ALL = "all"  # the counters' one bucket: the lists are not windowed
APPROVED, OTHER = "approved", "other"
ENABLED, DISABLED = "enabled", "disabled"


def kyc_flag(kyc_status: str | None) -> str:
    return APPROVED if kyc_status == APPROVED else OTHER


def status_flag(user_status: str | None) -> str:
    return ENABLED if (user_status or "active") == "active" else DISABLED


def _search(user: Item) -> str:
    return str(user.get("name_search") or "") or name_key(full_name(user))


# ---------------------------------------------------------------- the tree


def chain(ib_id: int | None, table: Table | None = None) -> list[tuple[int, int]]:
    """The IBs above a user whose direct IB is `ib_id`: (IB id, level), the
    direct IB at level 1 — one consistent GetItem per level."""
    table = table or Table()
    found: list[tuple[int, int]] = []
    current = ib_id
    while current is not None and current not in {a for a, _ in found}:
        found.append((current, len(found) + 1))
        parent = table.get(f"USER#{current}", "PROFILE") or {}
        current = int(parent["ib_id"]) if parent.get("ib_id") is not None else None
    return found


# ---------------------------------------------------------------- entries


def user_counter(ib_id: int, user_type: str, kyc: str, status: str) -> counts.Counter:
    return counts.Counter(f"ibusers#{ib_id}#{user_type}#{kyc}#{status}")


def account_counter(ib_id: int) -> counts.Counter:
    return counts.Counter(f"ibaccts#{ib_id}")


def user_key(ib_id: int, user_id: int) -> tuple[str, str]:
    return f"IBDOWN#{ib_id}", f"USER#{user_id:016d}"


def account_key(ib_id: int, account_id: int) -> tuple[str, str]:
    return f"IBDOWN#{ib_id}", f"TACCT#{account_id:016d}"


def _entry(key: tuple[str, str], ib_id: int, level: int, person: Item, created: int) -> Item:
    """What every downline entry carries: its place in the tree and what the text filters match."""
    return {
        "pk": key[0],
        "sk": key[1],
        "ib_id": ib_id,
        "level": level,
        "created_at": created,
        "email": str(person.get("email", "")).lower(),
        "name_search": _search(person),
    }


def user_entry(ib_id: int, level: int, user: Item, kyc_status: str | None) -> Item:
    user_id, created = int(user["id"]), int(user["created_at"])
    kyc, status = kyc_flag(kyc_status), status_flag(user.get("status"))
    return _entry(user_key(ib_id, user_id), ib_id, level, user, created) | {
        "user_id": user_id,
        "user_type": str(user["user_type"]),
        "via": int(user["ib_id"]),
        "kyc": kyc,
        "status": status,
        "gsi2pk": f"IBDOWNUSERS#{ib_id}#{user['user_type']}#{kyc}#{status}",
        "gsi2sk": f"{created:010d}#{user_id:016d}",
    }


def account_entry(ib_id: int, level: int, account: Item, owner: Item) -> Item:
    account_id, created = int(account["id"]), int(account["created_at"])
    order = f"{created:010d}#{account_id:016d}"
    return _entry(account_key(ib_id, account_id), ib_id, level, owner, created) | {
        "account_id": account_id,
        "user_id": int(account["user_id"]),
        "login": str(account["login"]),
        "type_name": str(account.get("type_name", "")),
        "gsi1pk": f"IBDOWNACCTS#{ib_id}",
        "gsi1sk": order,
        "gsi2pk": f"IBDOWNLOGIN#{ib_id}#{account['login']}",
        "gsi2sk": order,
    }


def _counter_of(entry: Item) -> counts.Counter:
    if str(entry["sk"]).startswith("USER#"):
        return user_counter(int(entry["ib_id"]), str(entry["user_type"]), str(entry["kyc"]), str(entry["status"]))
    return account_counter(int(entry["ib_id"]))


def put_requests(table: Table, entry: Item) -> list[dict[str, Any]]:
    """A new entry (or one in place of a tombstone) and its count, as entries of one transaction."""
    put = {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(entry),
            "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(gone)",
        }
    }
    return [put, counts.change(table, _counter_of(entry), ALL)]


def put_missing(table: Table, entry: Item) -> bool:
    """Write an entry with its count unless it is there (the backfill): False if it was."""
    return _transact(table, put_requests(table, entry))


def new_user_requests(user: Item, table: Table | None = None) -> list[dict[str, Any]]:
    """The entries of a new user under each IB above it (none without an IB),
    for the transaction that writes the user."""
    table = table or Table()
    if user.get("ib_id") is None:
        return []
    # a new user has no KYC yet
    return [
        r
        for ib, level in chain(int(user["ib_id"]), table)
        for r in put_requests(table, user_entry(ib, level, user, None))
    ]


def new_account_requests(account: Item, table: Table | None = None) -> list[dict[str, Any]]:
    """The entries of a new trading account under each IB above its owner,
    for the transaction that writes the account."""
    table = table or Table()
    owner = table.get(f"USER#{account['user_id']}", "PROFILE") or {}
    if owner.get("ib_id") is None:
        return []
    return [
        r
        for ib, level in chain(int(owner["ib_id"]), table)
        for r in put_requests(table, account_entry(ib, level, account, owner))
    ]


def _transact(table: Table, requests: list[dict[str, Any]]) -> bool:
    """False when a condition failed: the change was made already (a re-run) or meanwhile."""
    try:
        table.client.transact_write_items(TransactItems=requests)
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def _remove(table: Table, entry: Item) -> None:
    """Take an entry out of its lists with its count, only as it was read (its
    counter is the one it counts in). It is replaced by a tombstone without
    index keys rather than deleted: the functions that move users write but
    never delete (their IAM policies)."""
    tombstone = {"pk": entry["pk"], "sk": entry["sk"], "gone": True}
    put = {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(tombstone),
            "ConditionExpression": "gsi2pk = :was",
            "ExpressionAttributeValues": values({":was": entry["gsi2pk"]}),
        }
    }
    _transact(table, [put, counts.change(table, _counter_of(entry), ALL, by=-1)])


def _replace(table: Table, old: Item, new: Item) -> bool:
    """Move an entry from one counted partition to another, only from the one read."""
    put = {
        "Put": {
            "TableName": table.name,
            "Item": to_ddb(new),
            "ConditionExpression": "gsi2pk = :was",
            "ExpressionAttributeValues": values({":was": old["gsi2pk"]}),
        }
    }
    changes = [counts.change(table, _counter_of(old), ALL, by=-1), counts.change(table, _counter_of(new), ALL)]
    return _transact(table, [put, *changes])


# ---------------------------------------------------------------- changes of a user


def _entries_of(table: Table, keys: list[tuple[str, str]]) -> list[Item]:
    """The live entries of these keys (not the tombstones of moved ones)."""
    return [e for e in (table.batch_get(keys, consistent=True) if keys else []) if "gone" not in e]


def _user_entries(table: Table, user: Item) -> list[Item]:
    """The user's entries under every IB above it now."""
    if user.get("ib_id") is None:
        return []
    return _entries_of(table, [user_key(ib, int(user["id"])) for ib, _ in chain(int(user["ib_id"]), table)])


def flags_changed(user_id: int, kyc_status: str | None = None, table: Table | None = None) -> None:
    """The user's KYC status (given) or enabled/disabled status (read from the
    user) changed: its entries move to the partitions of its new flags."""
    table = table or Table()
    user = table.get(f"USER#{user_id}", "PROFILE")
    if user is None or user.get("ib_id") is None:
        return
    for entry in _user_entries(table, user):
        kyc = kyc_flag(kyc_status) if kyc_status is not None else str(entry["kyc"])
        fresh = user_entry(int(entry["ib_id"]), int(entry["level"]), user, APPROVED if kyc == APPROVED else None)
        if fresh["gsi2pk"] != entry["gsi2pk"]:
            _replace(table, entry, fresh)


def name_changed(user_id: int, name_search: str, table: Table | None = None) -> None:
    """The user's name changed (KYC): its entries and its accounts' carry the new name."""
    table = table or Table()
    user = table.get(f"USER#{user_id}", "PROFILE")
    if user is None or user.get("ib_id") is None:
        return
    ancestors = [ib for ib, _ in chain(int(user["ib_id"]), table)]
    accounts = [
        int(e["account_id"])
        for e in table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{user_id}", ":prefix": "TACCT#"})
    ]
    keys = [user_key(ib, user_id) for ib in ancestors] + [account_key(ib, a) for ib in ancestors for a in accounts]
    for pk, sk in keys:
        try:
            table.update(pk, sk, "SET name_search = :n", {":n": name_search}, condition="attribute_exists(gsi2pk)")
        except ClientError as error:
            if not is_condition_failure(error):
                raise


def _accounts_of(table: Table, user_ids: Iterable[int]) -> dict[int, list[Item]]:
    ids = [
        int(e["account_id"])
        for u in user_ids
        for e in table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": f"USER#{u}", ":prefix": "TACCT#"})
    ]
    found: dict[int, list[Item]] = {}
    for account in table.batch_get([(f"TACCT#{i}", "ACCOUNT") for i in ids]) if ids else []:
        found.setdefault(int(account["user_id"]), []).append(account)
    return found


def _kyc_statuses(table: Table, user_ids: list[int]) -> dict[int, str]:
    found = table.batch_get([(f"KYC#{u}", "STATUS") for u in user_ids]) if user_ids else []
    return {int(str(i["pk"]).removeprefix("KYC#")): str(i.get("kyc_status", "")) for i in found}


def moved(user_id: int, old_ib: int | None, new_ib: int | None, since: int, table: Table | None = None) -> None:
    """Re-index a user that moved from `old_ib` to `new_ib` (its `ib_id` is
    already the new one), with its accounts and, for a sub-IB, its whole
    downline: out from under the IBs of the old chain, in under the new chain's;
    and their trades closed since `since` (the move's effective time) — the
    trades before it stay with the IBs the user had when they closed.
    Each entry moves in its own small transaction with its count, so a move
    that stops half-way can be made again (`attribute_not_exists` on the puts)."""
    table = table or Table()
    old, new = chain(old_ib, table), chain(new_ib, table)
    below = [
        e
        for e in table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": f"IBDOWN#{user_id}", ":prefix": "USER#"})
        if "gone" not in e
    ]
    depth = {user_id: 0} | {int(e["user_id"]): int(e["level"]) for e in below}
    members = {int(u["id"]): u for u in table.batch_get([(f"USER#{m}", "PROFILE") for m in depth], consistent=True)}
    accounts = _accounts_of(table, members)
    stale = [user_key(ib, m) for ib, _ in old for m in members] + [
        account_key(ib, int(a["id"])) for ib, _ in old for m in members for a in accounts.get(m, [])
    ]
    for start in range(0, len(stale), 100):
        for entry in _entries_of(table, stale[start : start + 100]):
            _remove(table, entry)
    kyc = _kyc_statuses(table, list(members))
    for member_id, member in members.items():
        for ib, level in new:
            at = level + depth[member_id]
            fresh = [user_entry(ib, at, member, kyc.get(member_id))]
            fresh += [account_entry(ib, at, a, member) for a in accounts.get(member_id, [])]
            for entry in fresh:
                _transact(table, put_requests(table, entry))
    for member_id in members:
        for account in accounts.get(member_id, []):
            trades = table.query(
                "gsi1pk = :pk AND gsi1sk >= :since",
                {":pk": f"ACCTHIST#{account['id']}", ":since": f"{since:010d}#"},
                index="gsi1",
            )
            depth_of = depth[member_id]
            _move_trades(
                table,
                trades,
                [(a, level + depth_of) for a, level in old],
                [(a, level + depth_of) for a, level in new],
            )


# ---------------------------------------------------------------- reading


def get_user_entry(ib_id: int, user_id: int, table: Table | None = None) -> Item | None:
    found = (table or Table()).get(*user_key(ib_id, user_id), consistent=False)
    return found if found is not None and "gone" not in found else None


def user_partitions(ib_id: int, user_type: str, kyc: str | None, status: str | None) -> list[tuple[str, str, str]]:
    """The (gsi2pk, kyc, status) partitions a downline list reads: all four
    flag combinations unless a filter names one."""
    return [
        (f"IBDOWNUSERS#{ib_id}#{user_type}#{k}#{s}", k, s)
        for k in ([kyc] if kyc else [APPROVED, OTHER])
        for s in ([status] if status else [ENABLED, DISABLED])
    ]


def user_total(ib_id: int, user_type: str, kyc: str | None, status: str | None, table: Table | None = None) -> int:
    """The partitions' counters summed: one BatchGetItem."""
    keys = [
        key
        for _, k, s in user_partitions(ib_id, user_type, kyc, status)
        for key in user_counter(ib_id, user_type, k, s).keys(ALL)
    ]
    return sum(int(item.get("n", 0)) for item in (table or Table()).batch_get(keys))


def account_total(ib_id: int, table: Table | None = None) -> int:
    return counts.total(table or Table(), account_counter(ib_id), [ALL])


def account_ids(ib_id: int, login: str | None = None, table: Table | None = None) -> list[int]:
    """The trading accounts below the IB (with one login only, if given): one partition."""
    if login:
        condition, pk, index = "gsi2pk = :pk", f"IBDOWNLOGIN#{ib_id}#{login}", "gsi2"
    else:
        condition, pk, index = "gsi1pk = :pk", f"IBDOWNACCTS#{ib_id}", "gsi1"
    return [int(e["account_id"]) for e in (table or Table()).query(condition, {":pk": pk}, index=index)]


def text_matches(entry: Item, email: str | None, name: str | None) -> bool:
    """The seed's free-text filters on an entry: a part of the email, every word of a name."""
    if email and email.strip().lower() not in str(entry.get("email", "")):
        return False
    return all(word in str(entry.get("name_search", "")) for word in name_key(name or "").split())


def stream(items: Iterator[Item], email: str | None, name: str | None) -> Iterator[Item]:
    return (i for i in items if text_matches(i, email, name))


# ---------------------------------------------------------------- closed trades
#
# IBTRADES#<ib id>#<yyyy-mm of close> / <close time>#<server>#<ticket>
#     a closed trade of an account below the IB (the trade's fields, `ib_id`,
#     `level`), written when TradeSync first records it, under the tree then;
#     counted per IB and UTC day of close: `ibtrades#<ib id>` / <yyyy-mm-dd>.


def trade_counter(ib_id: int, by: str = "close") -> counts.Counter:
    """The IB's trades by UTC day of close (`ibtrades#<ib>`) or of open (`ibtrades-open#<ib>`)."""
    return counts.Counter(f"ibtrades#{ib_id}" if by == "close" else f"ibtrades-open#{ib_id}")


def _trade_counts(table: Table, entry: Item, by: int = 1) -> list[dict[str, Any]]:
    ib = int(entry["ib_id"])
    changes = [counts.change(table, trade_counter(ib), _day(int(entry["close_time"])), by=by)]
    if entry.get("open_time") is not None:
        changes.append(counts.change(table, trade_counter(ib, "open"), _day(int(entry["open_time"])), by=by))
    return changes


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def trade_entry(ib_id: int, level: int, trade: Item) -> Item:
    close = int(trade["close_time"])
    month = datetime.fromtimestamp(close, UTC).strftime("%Y-%m")
    fields = {k: v for k, v in trade.items() if k not in ("pk", "sk") and not k.startswith("gsi")}
    return fields | {
        "pk": f"IBTRADES#{ib_id}#{month}",
        "sk": f"{close:010d}#{trade['server']}#{trade['ticket']}",
        "ib_id": ib_id,
        "level": level,
    }


def _trade_requests(table: Table, entries: list[Item]) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for entry in entries:
        requests.append(
            {
                "Put": {
                    "TableName": table.name,
                    "Item": to_ddb(entry),
                    "ConditionExpression": "attribute_not_exists(pk) OR attribute_exists(gone)",
                }
            }
        )
        requests.extend(_trade_counts(table, entry))
    return requests


def record_trades(trades: list[Item], table: Table | None = None) -> None:
    """Index trades recorded for the first time under every IB above their
    owners, each trade in one transaction with its counts; a trade indexed
    already (a sync that stopped half-way and ran again) is left as it is."""
    table = table or Table()
    owners = {int(u["id"]): u for u in table.batch_get(sorted({(f"USER#{t['user_id']}", "PROFILE") for t in trades}))}
    chains: dict[int, list[tuple[int, int]]] = {}
    for trade in trades:
        ib = (owners.get(int(trade["user_id"])) or {}).get("ib_id")
        if ib is None:
            continue
        tree = chains.setdefault(int(ib), chain(int(ib), table))
        _transact(table, _trade_requests(table, [trade_entry(a, level, trade) for a, level in tree]))


def _move_trades(table: Table, trades: list[Item], old: list[tuple[int, int]], new: list[tuple[int, int]]) -> None:
    """Trades closed since a move leave the old chain's IBs for the new chain's
    (tombstones in the old places, as for users)."""
    for trade in trades:
        stale = [trade_entry(a, level, trade) for a, level in old]
        found = _entries_of(table, [(e["pk"], e["sk"]) for e in stale])
        requests: list[dict[str, Any]] = []
        for entry in found:
            # what orders it among the partition's trades stays, so a merged read can step over it
            kept = {k: entry[k] for k in ("close_time", "server", "ticket")}
            tombstone = {"pk": entry["pk"], "sk": entry["sk"], "gone": True} | kept
            requests.append(
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": to_ddb(tombstone),
                        "ConditionExpression": "attribute_not_exists(gone)",
                    }
                }
            )
            requests.extend(_trade_counts(table, entry, by=-1))
        if requests:
            _transact(table, requests)
        _transact(table, _trade_requests(table, [trade_entry(a, level, trade) for a, level in new]))


def trade_parts(ib_id: int, months: list[str], start: int, end: int) -> list[Any]:
    """The (pk, start sk, end sk) of the IB's trade partitions for a close-time window."""
    return [(f"IBTRADES#{ib_id}#{m}", f"{start:010d}#", f"{end:010d}#~") for m in months]


def trade_total(ib_id: int, start: int, end: int, by: str = "close", table: Table | None = None) -> int | None:
    """How many trades below the IB closed (or opened) in [start, end]: the
    counters of the whole UTC days inside, and for close times a count of the
    (at most two) partial days at the edges — two days' entries at most, not
    the window. None for open times with partial days (no key to count by)."""
    table = table or Table()
    first_day = datetime.fromtimestamp(start, UTC).replace(hour=0, minute=0, second=0)
    last_day = datetime.fromtimestamp(end, UTC).replace(hour=0, minute=0, second=0)
    whole, edges = [], []
    day = first_day
    while day <= last_day:
        begin, finish = int(day.timestamp()), int((day + timedelta(days=1)).timestamp()) - 1
        if start <= begin and finish <= end:
            whole.append(day.strftime("%Y-%m-%d"))
        else:
            edges.append((max(start, begin), min(end, finish)))
        day += timedelta(days=1)
    if edges and by != "close":
        return None
    total = counts.total(table, trade_counter(ib_id, by), whole)
    for low, high in edges:
        month = datetime.fromtimestamp(low, UTC).strftime("%Y-%m")
        total += table.count(
            "pk = :pk AND sk BETWEEN :low AND :high",
            {":pk": f"IBTRADES#{ib_id}#{month}", ":low": f"{low:010d}#", ":high": f"{high:010d}#~"},
            where="attribute_not_exists(gone)",
        )
    return total


def counted_window(start: int, end: int, since: int, now: int) -> tuple[int, int]:
    """A window narrowed to where trades can be: from the broker's first month
    to the end of the UTC day after now (whole days, so an open window has no
    partial edge to count)."""
    tomorrow = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0) + timedelta(days=2)
    return max(start, since), min(end, int(tomorrow.timestamp()) - 1)
