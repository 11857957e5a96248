"""Typed settings, read from the environment once per cold start.

Domain code receives values from here; it never reads `os.environ` itself.
"""

from functools import lru_cache
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str = "fxcrm-domain"
    idempotency_table_name: str = "fxcrm-idempotency"
    bucket_name: str = "fxcrm-files"

    # Tokens: HS256 with a key from Secrets Manager, pinned on verify.
    jwt_secret_name: str = "fxcrm/jwt"  # noqa: S105 - not a secret
    jwt_issuer: str = "fxcrm"
    jwt_audience: str = "fxcrm-portal"
    token_ttl_seconds: int = 3600
    secret_cache_seconds: int = 300

    ses_sender: str = "no-reply@broker.example.com"
    # SES publishes the bounces and complaints of mail sent through this set (fxcrm.mail).
    mail_configuration_set: str = ""

    # Captcha: "local" verifies HMAC tickets from the local cloud's widget;
    # "tencent" calls Tencent Cloud's DescribeCaptchaResult.
    # Every login needs a solved captcha; each ticket is accepted once.
    captcha_provider: Literal["local", "tencent"] = "local"
    captcha_app_id: int = 0
    captcha_verifications_per_address_per_hour: int = 30  # POST /auth/captcha/verify
    captcha_secret_name: str = "fxcrm/captcha"  # noqa: S105 - not a secret

    # Brute-force protection: attempts (password or TOTP) per email address per window.
    max_failed_logins: int = 5
    login_lockout_seconds: int = 300  # the window

    # Email codes.
    email_code_ttl_seconds: int = 600
    email_code_resend_seconds: int = 60
    email_code_max_attempts: int = 5
    email_codes_per_address_per_hour: int = 20
    password_change_requires_email_code: bool = False

    broker_timezone: str = "UTC"
    totp_issuer: str = "fxcrm"  # the name staff see in their authenticator app

    # Trading platform: "simulated" (state in DynamoDB) or "mt5webapi" for the MT5
    # servers, with per-server {url, manager_login, manager_password} in this secret.
    trading_platform: Literal["simulated", "mt5webapi"] = "simulated"
    mt5_secret_name: str = "fxcrm/mt5"  # noqa: S105 - not a secret
    demo_initial_balance: str = "10000.00"

    # Approval workflows (Step Functions): machine ARNs are this prefix + the flow's name.
    workflow_arn_prefix: str = "arn:aws:states:us-east-1:123456789012:stateMachine:fxcrm-"
    approval_timeout_seconds: int = 7 * 24 * 3600
    # KMS key that seals what an application must carry until it is decided (trading passwords).
    sealing_key_id: str = "alias/fxcrm-sealing"

    # Funding: receipts upload straight to S3 (presigned POST) within these limits;
    # payouts go through this provider ("local": instructions recorded for finance).
    receipt_max_bytes: int = 5 * 1024 * 1024
    upload_expires_seconds: int = 300
    payout_provider: Literal["local"] = "local"
    # Online deposits: "local" (a stand-in payment page) or "nowpayments" (keys in this secret).
    stage: Literal["dev", "prod"] = "dev"
    payment_provider: Literal["local", "nowpayments"] = "local"
    psp_secret_name: str = "fxcrm/psp"  # noqa: S105 - not a secret

    # KYC: documents upload straight to S3 (presigned POST) within this size;
    # e-verification through "local" (a stand-in page) or "sumsub" (keys in this secret).
    kyc_document_max_bytes: int = 10 * 1024 * 1024
    e_verify_provider: Literal["local", "sumsub"] = "local"
    e_verify_secret_name: str = "fxcrm/e-verify"  # noqa: S105 - not a secret
    e_verify_session_seconds: int = 1800

    # Reports: staff-wide reports read month by month from this month (yyyy-mm, the
    # broker's first); exports of more rows than `export_inline_rows` run in the background.
    reports_since: str = "2024-01"
    export_inline_rows: int = 50_000
    export_link_seconds: int = 900

    # Functions other functions start asynchronously (named <stack>-<name> in template.yaml).
    reports_function_name: str = "fxcrm-reports"
    settlement_function_name: str = "fxcrm-settlement"
    # The client portal's address: an IB's referral link is <portal_url>/register?invite_code=<code>.
    portal_url: str = "https://portal.broker.example.com"
    # Reconciliation: an item waiting longer than this for a decision is past its SLA; a
    # trade recorded longer ago than the lag and not settled is a finding.
    approval_sla_hours: int = 24
    settlement_lag_hours: int = 4

    @model_validator(mode="after")
    def _no_stand_in_in_prod(self) -> "Settings":
        # The template's Rules refuse it too; this guards a stack changed by hand.
        if self.stage == "prod" and self.payment_provider == "local":
            raise ValueError("STAGE=prod refuses PAYMENT_PROVIDER=local (the local payment page is a stand-in)")
        return self

    def workflow_arn(self, flow: str) -> str:
        return self.workflow_arn_prefix + flow


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
