"""The local stand-ins' pages (payment provider, e-verification provider): one
HTML shell and one reading of the buttons they post, so both answer alike."""

import html
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from fxcrm.api.errors import error_responses
from fxcrm.core.errors import InvalidInput

# The stand-in page: nothing from elsewhere, never framed, never cached.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fxcrm - local {title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto}}button{{font-size:1rem;margin-right:1rem}}</style>
</head><body>
<h1>Local {title}</h1>
{paragraphs}
<form method="post" action="{action}">
<input type="hidden" name="token" value="{token}">
{buttons}
</form>
</body></html>
"""
_BUTTON = '<button type="submit" name="outcome" value="{value}">{label}</button>'


def page_responses(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a page's GET: HTML, its errors the usual JSON bodies."""
    return {
        200: {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}},
        **error_responses(404),
    }


def page(title: str, paragraphs: Sequence[str], action: str, token: str, buttons: Mapping[str, str]) -> HTMLResponse:
    """The page with its text, and a form that posts `outcome` (a key of `buttons`)
    and `token` to `action`. Every value is escaped here."""
    text = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    choices = "\n".join(_BUTTON.format(value=html.escape(v), label=html.escape(label)) for v, label in buttons.items())
    shown = _PAGE.format(
        title=html.escape(title),
        paragraphs=text,
        action=html.escape(action),
        token=html.escape(token),
        buttons=choices,
    )
    return HTMLResponse(shown, headers=PAGE_HEADERS)


async def choice(request: Request, outcomes: Sequence[str], message: str) -> tuple[str, str]:
    """The posted form's `outcome` (one of `outcomes`, else `message` on that field)
    and its `token` (required)."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    outcome = (form.get("outcome") or [""])[0]
    if outcome not in outcomes:
        raise InvalidInput(message, "outcome")
    token = (form.get("token") or [""])[0]
    if not token:
        raise InvalidInput("the page's token is required", "token")
    return outcome, token
