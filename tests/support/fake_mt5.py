"""A fake MT5 Manager Web API server on loopback, written for the tests.

It speaks the documented protocol: the auth/start + auth/answer MD5
challenge (and proves itself with cli_rand_answer), sessions bound to the
TCP connection, `retcode` strings, numbers as strings, volumes in 1/10000 lot.
"""

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fxcrm.adapters.trading.mt5_webapi import challenge_answer, password_hash
from tests.support.fake_http import JsonHandler

DONE = "0 Done"


@dataclass
class FakeMt5State:
    manager_login: int
    manager_password: str
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    deals: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    logins: Any = field(default_factory=lambda: itertools.count(500001))
    tickets: Any = field(default_factory=lambda: itertools.count(9000001))
    prove_identity: bool = True  # False: answer cli_rand wrongly, like an impostor
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(JsonHandler):  # keep-alive: the session lives as long as the connection
    state: FakeMt5State

    def setup(self) -> None:
        super().setup()
        self.srv_rand: str | None = None
        self.authorised = False

    def _reply(self, payload: dict[str, Any], status: int = 200) -> None:
        self.send_json(status, payload)

    def _handle(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        state = self.state
        with state.lock:
            state.requests.append(split.path)
            if split.path == "/api/auth/start":
                if int(query.get("login", 0)) != state.manager_login or query.get("type") != "manager":
                    return self._reply({"retcode": "1001 Invalid account"})
                self.srv_rand = secrets.token_hex(16)
                return self._reply({"retcode": DONE, "srv_rand": self.srv_rand})
            if split.path == "/api/auth/answer":
                pw_hash = password_hash(state.manager_password)
                if self.srv_rand is None or query.get("srv_rand_answer") != challenge_answer(pw_hash, self.srv_rand):
                    return self._reply({"retcode": "1007 Invalid password"})
                self.authorised = True
                proof = challenge_answer(pw_hash if state.prove_identity else b"impostor", query["cli_rand"])
                return self._reply({"retcode": DONE, "cli_rand_answer": proof})
            if not self.authorised:
                return self._reply({"retcode": "8 Not enough permissions"}, status=403)
            route = {
                "/api/user/add": self._user_add,
                "/api/user/change_password": self._change_password,
                "/api/trade/balance": self._balance,
                "/api/user/account/get": self._account,
                "/api/deal/get_batch": lambda q, b: self._batch(state.deals, q, by_time=True),
                "/api/position/get_batch": lambda q, b: self._batch(state.positions, q),
                "/api/order/get_batch": lambda q, b: self._batch(state.orders, q),
            }.get(split.path)
            if route is None:
                return self._reply({"retcode": "3 Invalid parameters"})
            return self._reply(route(query, body))

    do_GET = do_POST = _handle

    # ------------------------------------------------------------------ methods
    def _user_add(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if len(query.get("pass_main", "")) < 8 or len(query.get("pass_investor", "")) < 8:
            return {"retcode": "3006 Invalid password"}
        login = next(self.state.logins)
        self.state.users[login] = {
            "Login": login,
            "Group": body["Group"],
            "Name": body["Name"],
            "Leverage": body["Leverage"],
            "Balance": Decimal(0),
            "Credit": Decimal(0),
            "pass_main": query["pass_main"],
            "pass_investor": query["pass_investor"],
        }
        return {"retcode": DONE, "answer": {"Login": str(login), "Group": body["Group"]}}

    def _user(self, query: dict[str, str]) -> dict[str, Any] | None:
        return self.state.users.get(int(query.get("login", 0)))

    def _change_password(self, query: dict[str, str], _: Any) -> dict[str, Any]:
        user = self._user(query)
        if user is None:
            return {"retcode": "13 Not found"}
        if len(query.get("password", "")) < 8:
            return {"retcode": "3006 Invalid password"}
        user["pass_main" if query.get("type") == "main" else "pass_investor"] = query["password"]
        return {"retcode": DONE}

    def _balance(self, query: dict[str, str], _: Any) -> dict[str, Any]:
        user = self._user(query)
        if user is None:
            return {"retcode": "13 Not found"}
        amount = Decimal(query["balance"])
        if query.get("check_margin") == "1" and user["Balance"] + amount < 0:
            return {"retcode": "10019 No money"}
        user["Balance"] += amount
        ticket = next(self.state.tickets)
        self.state.deals.append(
            {
                "Deal": str(ticket),
                "Login": str(user["Login"]),
                "Time": str(int(time.time())),
                "Action": "2",
                "Entry": "0",
                "Symbol": "",
                "Volume": "0",
                "Price": "0",
                "Profit": str(amount),
                "Commission": "0",
                "Storage": "0",
                "PositionID": "0",
                "Comment": query.get("comment", ""),
            }
        )
        return {"retcode": DONE, "answer": {"ticket": str(ticket)}}

    def _account(self, query: dict[str, str], _: Any) -> dict[str, Any]:
        user = self._user(query)
        if user is None:
            return {"retcode": "13 Not found"}
        balance = user["Balance"] + user["Credit"]
        return {
            "retcode": DONE,
            "answer": {
                "Login": str(user["Login"]),
                "Balance": f"{user['Balance']:.2f}",
                "Credit": f"{user['Credit']:.2f}",
                "Equity": f"{balance:.2f}",
                "Margin": "0.00",
                "MarginFree": f"{balance:.2f}",
                "MarginLevel": "0.00",
            },
        }

    def _batch(self, rows: list[dict[str, Any]], query: dict[str, str], by_time: bool = False) -> dict[str, Any]:
        logins = set((query.get("login") or "").split(","))  # one login or a comma-separated list
        found = [r for r in rows if r["Login"] in logins]
        if by_time:
            start, end = int(query.get("from", 0)), int(query.get("to", 2**40))
            found = [r for r in found if start <= int(r["Time"]) <= end]
        return {"retcode": DONE, "answer": found}


class FakeMt5Server:
    def __init__(self, manager_login: int = 1000, manager_password: str = "Manager-pass-1") -> None:
        self.state = FakeMt5State(manager_login, manager_password)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeMt5Server":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
