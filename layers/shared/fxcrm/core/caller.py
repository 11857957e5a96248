"""The caller and the people fxcrm knows: who is calling (`Principal`), the
user types and staff roles, and a person's name as it is shown, stored and
matched."""

import unicodedata
from dataclasses import dataclass
from typing import Any

CLIENT = "client"
IB = "ib"
STAFF = "staff"
STAFF_ROLES = ("admin", "finance", "compliance", "support", "controller")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as established from a verified token and the stored user."""

    user_id: int
    user_type: str
    role: str
    email: str
    mfa: bool = False  # the token was issued after a second factor
    ip_allow: tuple[str, ...] = ()  # staff: the networks the account may be used from (empty: any)
    must_change_password: bool = False  # a one-time password (the bootstrap's first admin) not yet replaced

    @property
    def is_staff(self) -> bool:
        return self.user_type == STAFF


def full_name(user: dict[str, Any]) -> str:
    """A person's name as it is shown everywhere: the full name they gave in
    KYC, else first and last name."""
    return str(user.get("full_name") or "") or " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)


def name_key(text: str) -> str:
    """A name as the name filters compare it: accents dropped, case folded,
    runs of spaces made one (so "JOSÉ  garcía" and "Jose Garcia" are one name)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def person_name(first_name: str, last_name: str, given_full_name: str = "") -> dict[str, str]:
    """The name fields of a user item: first and last name, the full name (as
    given, else first and last) and `name_search`, its words as `name_key`
    makes them, which the name filters match."""
    first, last = " ".join(first_name.split()), " ".join(last_name.split())
    shown = " ".join(given_full_name.split()) or " ".join(p for p in (first, last) if p)
    words = name_key(" ".join((shown, first, last))).split()
    return {"first_name": first, "last_name": last, "full_name": shown, "name_search": " ".join(dict.fromkeys(words))}


def name_matches(user: dict[str, Any], typed: str | None) -> bool:
    """A name filter as a user types it: every word typed is part of the
    user's name, in any case and order, with or without accents."""
    wanted = name_key(typed or "").split()
    if not wanted:
        return True
    # users stored before `name_search` existed are matched on their shown name
    known = str(user.get("name_search") or "") or name_key(full_name(user))
    return all(word in known for word in wanted)
