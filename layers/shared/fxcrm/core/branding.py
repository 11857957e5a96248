"""The broker's branding (`SETTING#branding`): its name in each language,
logos, support contacts and time zone. Staff edit it (fxcrm.site); mail and
pages read it."""

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, field_validator

from fxcrm.core.languages import Language
from fxcrm.core.text import FreeText


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

    def broker_name(self, language: Language) -> str:
        """The name in `language`, else in English (a name left blank in one language)."""
        named: dict[str, Any] = self.broker_name_i18n.model_dump(by_alias=True)
        return str(named.get(language) or named["en"] or I18nText().en)
