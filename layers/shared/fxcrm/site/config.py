"""Branding and login-page settings: defaults until staff save their own."""

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, field_validator

from fxcrm import audit
from fxcrm.core.caller import Principal
from fxcrm.core.text import FreeText
from fxcrm.dal import settings_items


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    # Walks the time-zone database (~20 ms): done on first use, not at import.
    return frozenset(available_timezones())


class I18nText(BaseModel):
    en: FreeText = Field(default="", max_length=500)
    zh_CN: FreeText = Field(default="", alias="zh-CN", max_length=500)
    zh_TW: FreeText = Field(default="", alias="zh-TW", max_length=500)

    model_config = {"populate_by_name": True}


class Branding(BaseModel):
    broker_name_i18n: I18nText = I18nText.model_validate(
        {"en": "fxcrm Demo Broker", "zh-CN": "fxcrm 演示经纪商", "zh-TW": "fxcrm 演示經紀商"}
    )
    company_logo_url: str = Field(default="", max_length=2000)
    email: str = Field(default="support@broker.example.com", max_length=320)
    login_page_logo_url: str = Field(default="", max_length=2000)
    support_phone: FreeText = Field(default="", max_length=50)
    # A validated string, not an enum of ~600 names: the database has aliases that
    # clash as identifiers (`GMT0`, `GMT-0`), which stops client generators.
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="An IANA time zone name, as in the tz database (`available_timezones()`).",
        examples=["Asia/Shanghai", "Europe/London", "UTC"],
    )
    watermark_logo_url: str = Field(default="", max_length=2000)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in _timezones():
            raise ValueError("must be an IANA time zone such as Asia/Shanghai")
        return value


class LoginPages(BaseModel):
    admin_login_bg_image_url: str = Field(default="", max_length=2000)
    admin_login_copy_i18n: I18nText = I18nText(en="Back office")
    admin_login_layout: str = Field(default="center", max_length=32)
    client_login_bg_image_url: str = Field(default="", max_length=2000)
    client_login_copy_i18n: I18nText = I18nText(en="Trade the world's markets")
    client_login_layout: str = Field(default="left", max_length=32)
    ib_login_bg_image_url: str = Field(default="", max_length=2000)
    ib_login_copy_i18n: I18nText = I18nText(en="Grow with our partner programme")
    ib_login_layout: str = Field(default="left", max_length=32)


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True)


def get_branding(default_timezone: str) -> dict[str, Any]:
    stored = settings_items.get_setting("branding")
    return _dump(Branding.model_validate(stored) if stored else Branding(timezone=default_timezone))


def _save(name: str, value: dict[str, Any], staff: Principal, source_ip: str, now: int) -> dict[str, Any]:
    before = settings_items.get_setting(name) or {}
    settings_items.put_setting(name, value, staff.user_id, now)
    audit.record(staff, f"site.{name}", f"setting:{name}", source_ip, now, before=before, after=value)
    return value


def save_branding(branding: Branding, staff: Principal, source_ip: str, now: int) -> dict[str, Any]:
    return _save("branding", _dump(branding), staff, source_ip, now)


def get_login_pages() -> dict[str, Any]:
    stored = settings_items.get_setting("login_pages")
    return _dump(LoginPages.model_validate(stored) if stored else LoginPages())


def save_login_pages(pages: LoginPages, staff: Principal, source_ip: str, now: int) -> dict[str, Any]:
    return _save("login_pages", _dump(pages), staff, source_ip, now)
