"""Posting the portals' forms in tests: each with the CSRF token of the form that posts."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from onewindow.kit import web


def form_token(html: str, action: str) -> str:
    """The CSRF token in the page's form that posts to `action` (not the sign-out's)."""
    found = re.search(
        rf'action="{re.escape(action)}"[^>]*>\s*<input type="hidden" name="csrf_token" '
        r'value="([^"]+)"',
        html,
    )
    assert found is not None, f"no form posting to {action} with its CSRF token"
    return found.group(1)


def post(client: TestClient, path: str, data: dict[str, str], page: str | None = None) -> Response:
    """Post the form of `page` that goes to `path`; without a page (its form is not shown),
    with the session's token."""
    if page is None:
        token = web.csrf(client.cookies[web.COOKIE])
    else:
        token = form_token(client.get(page).text, path)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
