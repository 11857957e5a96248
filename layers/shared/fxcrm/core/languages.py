"""The languages fxcrm writes to people in (as the seed's branding and login
copy are): a user's `language`, and the best of them for an Accept-Language."""

from typing import Literal, get_args

Language = Literal["en", "zh-CN", "zh-TW"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT: Language = "en"

# Chinese tags by script or region: Hans (and mainland China, Singapore) is
# written in simplified characters, Hant (Taiwan, Hong Kong, Macau) in traditional.
_CHINESE: dict[str, Language] = {
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-sg": "zh-CN",
    "zh-my": "zh-CN",
    "zh-hant": "zh-TW",
    "zh-tw": "zh-TW",
    "zh-hk": "zh-TW",
    "zh-mo": "zh-TW",
}


def _match(tag: str) -> Language | None:
    tag = tag.strip().lower().replace("_", "-")
    if tag == "en" or tag.startswith("en-"):
        return "en"
    parts = tag.split("-")
    # zh-Hant-HK before zh-HK before zh: the script says more than the region
    for candidate in ("-".join(parts[:2]), "-".join(parts[:1])):
        if candidate in _CHINESE:
            if len(parts) > 2 and f"zh-{parts[1]}" not in ("zh-hans", "zh-hant"):
                return _CHINESE.get(f"zh-{parts[2]}", _CHINESE[candidate])
            return _CHINESE[candidate]
    return None


def from_accept_language(header: str | None) -> Language | None:
    """The supported language the header prefers most (RFC 9110 quality
    values), or None when it names none of them. Never fails: a header is the
    browser's, not the user's input to correct."""
    if not header or len(header) > 512:
        return None
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = _match(tag)
        if language is None or not 0 < quality <= 1:
            continue
        ranked = (quality, -position, language)
        if best is None or ranked[:2] > best[:2]:
            best = ranked
    return best[2] if best else None


def known(value: object) -> Language:
    """A stored language as one of ours (an item without one, or with an
    unknown value, reads as the default)."""
    for language in LANGUAGES:
        if value == language:
            return language
    return DEFAULT
