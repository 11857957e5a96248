"""End-to-end tier: `python -m localcloud` in a subprocess, used over HTTP."""

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.cloud import free_port
from localcloud.template import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class RunningCloud:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    staff_tokens: dict[str, str] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def code_for(self, email: str) -> str:
        mails = httpx.get(f"{self.url}/_dev/mailbox", params={"to": email}, timeout=10).json()
        assert mails, f"no mail for {email}"
        found = re.search(r"\b(\d{6})\b", mails[-1]["body"])
        assert found
        return found.group(1)

    def captcha(self) -> dict[str, str]:
        randstr = secrets.token_hex(6)
        ticket = httpx.get(f"{self.url}/_dev/captcha", params={"randstr": randstr}, timeout=10).json()["ticket"]
        return {"Captcha-Token": ticket, "Captcha-Randstr": randstr, "Captcha-Action": "login"}

    def staff_token(self, email: str, password: str) -> str:
        """Password, then TOTP (enrolling at the first login); one token per
        address for the session, since a code's time step is good once."""
        import pyotp

        if email not in self.staff_tokens:
            pending = {"Authorization": f"Bearer {self.login(email, password).json()['token']}"}
            with self.client() as http:
                enrolment = http.post("/auth/totp/enrolment", headers=pending)
                assert enrolment.status_code == 200, enrolment.text
                secret = enrolment.json()["secret"]
                done = http.post("/auth/totp/activation", json={"code": pyotp.TOTP(secret).now()}, headers=pending)
                assert done.status_code == 200, done.text
            self.totp_secrets[email] = secret
            self.staff_tokens[email] = done.json()["token"]
        return self.staff_tokens[email]

    def login(self, email: str, password: str) -> Any:
        return httpx.post(
            f"{self.url}/auth/login", json={"email": email, "password": password}, headers=self.captcha(), timeout=30
        )


def start_cloud(name: str) -> RunningCloud:
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = ARTIFACTS / f"localcloud-{name}.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    # Every e2e request comes from 127.0.0.1, so the per-address hourly allowance of
    # email codes (20, tested in tests/component) would throttle the suite itself.
    env["EMAIL_CODES_PER_ADDRESS_PER_HOUR"] = "10000"
    process = subprocess.Popen(
        [sys.executable, "-m", "localcloud", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local cloud exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/_dev/health", timeout=1).status_code == 200:
                return RunningCloud(url, process, log)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the local cloud did not answer within 60 s:\n{log.read_text()}")


def stop_cloud(cloud: RunningCloud) -> None:
    cloud.process.terminate()
    try:
        cloud.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        cloud.process.kill()


@pytest.fixture(scope="session")
def cloud() -> Iterator[RunningCloud]:
    running = start_cloud("e2e")
    yield running
    stop_cloud(running)
