"""Every client mail renders in every language: the same messages and
placeholders in each catalogue, a text and an HTML part, the broker's
branding, and every value a person typed escaped in the HTML."""

import json
from pathlib import Path

import pytest

from fxcrm.core.branding import Branding
from fxcrm.core.languages import LANGUAGES, from_accept_language, known
from fxcrm.mail.render import CODE_LINE, COMMON, MESSAGES, catalogue, placeholders, reason_in, render

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=1>'
BRANDING = Branding.model_validate(
    {
        "broker_name_i18n": {"en": "Acme <FX>", "zh-CN": "艾克米 <外汇>", "zh-TW": "艾克米 <外匯>"},
        "company_logo_url": "https://cdn.acme.example/logo.png",
        "email": "help@acme.example",
        "support_phone": "+44 20 7946 0000",
    }
)


def _values(message: str) -> dict[str, str]:
    return {name: "424242" if name == "code" else f"{name}:{HOSTILE}" for name in MESSAGES[message]}


def test_every_language_has_exactly_the_messages_and_placeholders() -> None:
    locales = Path(__file__).parents[2] / "layers/shared/fxcrm/mail/locales"
    assert sorted(p.stem for p in locales.glob("*.json")) == sorted(LANGUAGES)
    for language in LANGUAGES:
        words = catalogue(language)
        assert set(words["messages"]) == set(MESSAGES), language
        assert set(words["reasons"]) == {"declined", "expired", "failed"}
        assert set(words["layout"]) == set(catalogue("en")["layout"])
        for name, entry in words["messages"].items():
            used = set().union(*(placeholders(line) for line in [entry["subject"], *entry["lines"]]))
            # each value the message takes is shown, and nothing else is asked for
            assert used - COMMON == MESSAGES[name], (language, name)
            assert (CODE_LINE in entry["lines"]) == ("code" in MESSAGES[name]), (language, name)
        json.dumps(words)  # plain JSON, as a broker edits it


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_each_message_renders_text_and_escaped_html(message: str, language: str) -> None:
    lang = known(language)
    values = _values(message)
    mail = render(message, values, lang, BRANDING)
    broker = BRANDING.broker_name(lang)
    assert mail.subject and mail.language == lang
    # the text part has the values as typed, the broker's name and support contacts
    assert broker in mail.text and "help@acme.example" in mail.text and "+44 20 7946 0000" in mail.text
    for value in values.values():
        assert value in mail.text
    # the HTML part has them escaped: no tag a value brought survives
    assert "<script>" not in mail.html and "<img src=x" not in mail.html and "<FX>" not in mail.html
    if values.keys() - {"code"}:  # a message that shows a typed value shows it escaped
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=1&gt;" in mail.html
    assert f'<html lang="{lang}">' in mail.html
    assert '<img src="https://cdn.acme.example/logo.png"' in mail.html
    assert 'href="mailto:help@acme.example"' in mail.html
    # the words are the language's own
    first_line = catalogue(lang)["messages"][message]["lines"][0].split("{")[0]
    assert first_line in mail.text


def test_a_code_mail_shows_the_code_on_its_own_line() -> None:
    mail = render("code_register", {"code": "012345", "minutes": 10}, "zh-CN", BRANDING)
    assert mail.subject == "您的注册验证码"
    assert "\n    012345\n" in mail.text
    assert "012345</p>" in mail.html and "验证码 10 分钟内有效" in mail.text
    assert "您在 艾克米 &lt;外汇&gt; 的注册验证码是" in mail.html


def test_values_must_be_exactly_what_the_message_takes() -> None:
    with pytest.raises(ValueError, match="takes"):
        render("deposit_declined", {"number": "D1"}, "en", BRANDING)
    with pytest.raises(ValueError, match="takes"):
        render("kyc_approved", {"extra": "x"}, "en", BRANDING)
    with pytest.raises(KeyError):
        render("no_such_message", {}, "en", BRANDING)


def test_only_an_https_logo_is_shown() -> None:
    sneaky = BRANDING.model_copy(update={"company_logo_url": "javascript:alert(1)"})
    mail = render("kyc_approved", {}, "en", sneaky)
    assert "javascript:" not in mail.html and "<img" not in mail.html
    assert "Acme &lt;FX&gt;</strong>" in mail.html


def test_a_blank_name_in_one_language_falls_back_to_english() -> None:
    partial = Branding.model_validate({"broker_name_i18n": {"en": "Acme FX", "zh-CN": "", "zh-TW": ""}})
    assert render("kyc_approved", {}, "zh-TW", partial).text.startswith("Acme FX\n")


def test_reasons_are_the_staff_words_for_a_rejection_and_the_readers_language_otherwise() -> None:
    assert reason_in("zh-CN", "rejected", "Name does not match") == "Name does not match"
    assert reason_in("en", "rejected", "") == "no reason was given"
    assert reason_in("zh-TW", "expired", "it was not reviewed in time") == "未在期限內完成審核"
    assert reason_in("zh-CN", "failed", "") == "无法处理"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW", "zh-TW"),
        ("zh-HK,en;q=0.5", "zh-TW"),
        ("zh-Hant-HK", "zh-TW"),
        ("zh-Hans-HK", "zh-CN"),
        ("zh", "zh-CN"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,zh-TW;q=0.4,en;q=0.3", "zh-TW"),
        ("en;q=0.2,zh-CN;q=0.8", "zh-CN"),
        ("fr-FR,de;q=0.5", None),
        ("", None),
        (None, None),
        ("zh-CN;q=abc,en", "en"),
        ("zh-CN;q=0", None),
        ("x" * 600, None),
    ],
)
def test_accept_language_picks_the_best_supported_language(header: str | None, language: str | None) -> None:
    assert from_accept_language(header) == language


def test_an_unknown_stored_language_reads_as_english() -> None:
    assert known(None) == "en" and known("fr") == "en" and known("zh-TW") == "zh-TW"
