"""Connecting a Facebook Page (Facebook Login; platforms.md §6).

Meta accepts only HTTPS redirect addresses, so, as for Threads, there are two ways in: paste a
token made in Meta's Graph API Explorer (a long-lived user token, or the Page's own token), or
sign in in the browser and paste the address it ends on. Either way Outpost keeps the Page's
token, which Meta does not expire when it comes from a long-lived sign-in (unverified; when a
token does carry an expiry Outpost reminds the person to reconnect before it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.auth.loopback import code_from_pasted_redirect
from app.auth.pkce import PendingAuthorization
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.facebook import DEFAULT_BASE, VERSION
from app.platforms.http import Tuning, create_client, describe_transport_error
from app.platforms.meta import parse_graph_error

AUTHORIZE_URL = f"https://www.facebook.com/{VERSION}/dialog/oauth"
SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement,pages_manage_engagement,publish_video"


async def _get(client: httpx.AsyncClient, path: str, what: str, token: str = "", **params: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = await client.get(path, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Facebook while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        error = parse_graph_error(response.content)
        raise ConnectionFailed(f"Facebook refused {what}: {error.shown if error else f'HTTP {response.status_code}'}")
    data: dict[str, Any] = response.json()
    return data


def _pick(pages: list[dict[str, Any]], page: str) -> dict[str, Any]:
    names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in pages)
    if page:
        for p in pages:
            if page in (str(p.get("id")), str(p.get("name"))):
                return p
        raise ConnectionFailed(f"This sign-in cannot post to the Page {page!r}. Pages it can manage: {names}.")
    if len(pages) == 1:
        return pages[0]
    raise ConnectionFailed(f"This sign-in manages several Pages; choose one: {names}.")


async def account_from_token(
    token: str, *, page: str = "", api_base: str = DEFAULT_BASE, tuning: Tuning | None = None,
    now: datetime | None = None, expires_in: float | None = None, extra_secrets: dict[str, str] | None = None,
) -> ConnectedAccount:
    """A Page from a user token (its Pages are listed, `page` picks one by id or name) or a Page token."""
    token = token.strip()
    if not token:
        raise ConnectionFailed("Paste a Facebook access token.")
    register_secret(token)
    now = now or datetime.now(UTC)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = await _get(client, f"/{VERSION}/me", "checking the token", token, fields="id,name")
        accounts = await _get(client, f"/{VERSION}/me/accounts", "listing your Pages", token,
                              fields="id,name,access_token")  # the SDK's Page fields (no `tasks`)
    pages = [p for p in accounts.get("data") or [] if p.get("access_token")]
    if pages:
        chosen = _pick(pages, page)
        page_token, page_id, name = str(chosen["access_token"]), str(chosen["id"]), str(chosen.get("name") or "")
        page_expiry = ""  # a Page token from a long-lived user token does not expire (unverified)
    else:  # the pasted token is the Page's own token
        page_token, page_id, name = token, str(me["id"]), str(me.get("name") or "")
        page_expiry = (now + timedelta(seconds=expires_in)).isoformat() if expires_in else ""
    register_secret(page_token)
    secrets = {"access_token": page_token, "issued_at": now.isoformat(), "expires_at": page_expiry,
               **(extra_secrets or {})}
    return ConnectedAccount(platform=Platform.FACEBOOK, handle=name or page_id, display_name=name,
                            settings={"page_id": page_id}, secrets=secrets)


class FacebookBrowserSignIn:
    """Sign in in the browser, then paste the HTTPS address the browser ends on.

    `redirect_uri` is the address registered for the Meta app (for example
    https://127.0.0.1:8443/callback/facebook); nothing needs to listen there.
    """

    def __init__(self, app_id: str, app_secret: str, redirect_uri: str, *, page: str = "",
                 api_base: str = DEFAULT_BASE, authorize_url: str = AUTHORIZE_URL,
                 tuning: Tuning | None = None) -> None:
        self.app_id, self.app_secret, self.page = app_id.strip(), app_secret.strip(), page
        register_secret(self.app_secret)
        self.api_base = api_base.rstrip("/")
        self.tuning = tuning or Tuning()
        self.pending = PendingAuthorization("facebook", redirect_uri)
        self.authorization_url = f"{authorize_url}?" + urlencode({
            "client_id": self.app_id, "redirect_uri": redirect_uri, "scope": SCOPES, "response_type": "code",
            "state": self.pending.state,
        })

    async def finish(self, pasted_address: str) -> ConnectedAccount:
        code = code_from_pasted_redirect(pasted_address, self.pending)
        async with create_client(self.tuning, base_url=self.api_base) as client:
            short = await _get(client, f"/{VERSION}/oauth/access_token", "the sign-in code", client_id=self.app_id,
                               client_secret=self.app_secret, redirect_uri=self.pending.redirect_uri, code=code)
            register_secret(str(short.get("access_token") or ""))
            long = await _get(client, f"/{VERSION}/oauth/access_token", "a long-lived token",
                              grant_type="fb_exchange_token", client_id=self.app_id, client_secret=self.app_secret,
                              fb_exchange_token=str(short["access_token"]))
        connected = await account_from_token(str(long["access_token"]), page=self.page, api_base=self.api_base,
                                             tuning=self.tuning, extra_secrets={"app_secret": self.app_secret})
        connected.settings["app_id"] = self.app_id
        return connected
