"""Branding and login-page settings: defaults until staff save their own."""

from typing import Any

from pydantic import BaseModel, Field

from fxcrm import audit
from fxcrm.core.branding import Branding, I18nText
from fxcrm.core.caller import Principal
from fxcrm.dal import settings_items

__all__ = ["Branding", "I18nText", "LoginPages", "get_branding", "get_login_pages", "save_branding", "save_login_pages"]


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
