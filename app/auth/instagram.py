"""Connecting an Instagram professional account (Instagram API with Instagram Login; platforms.md §7).

Meta accepts only HTTPS redirect addresses, so, as for Threads, there are two ways in: paste a
long-lived token made in Meta's developer tools, or sign in in the browser and paste the address
it ends on (checked exactly as the loopback listener would check it). The app secret is needed
once, for the code exchange, and then kept in the keyring with the account's token.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.auth.loopback import code_from_pasted_redirect
from app.auth.pkce import PendingAuthorization
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.http import Tuning, create_client, describe_transport_error
from app.platforms.instagram import DEFAULT_BASE, VERSION, token_values
from app.platforms.meta import parse_graph_error

AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"
OAUTH_BASE = "https://api.instagram.com"  # the code exchange lives here, the rest on graph.instagram.com
SCOPES = "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_comments"


async def _get(client: httpx.AsyncClient, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(kwargs.pop("method", "GET"), url, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Instagram while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        error = parse_graph_error(response.content)
        detail = error.shown if error else f"HTTP {response.status_code}"
        if error is None:
            with contextlib.suppress(ValueError):
                detail = str(response.json().get("error_message") or detail)
        raise ConnectionFailed(f"Instagram refused {what}: {detail}")
    data: dict[str, Any] = response.json()
    return data


async def account_from_token(
    token: str, *, api_base: str = DEFAULT_BASE, tuning: Tuning | None = None, now: datetime | None = None,
    expires_in: float | None = None, extra_secrets: dict[str, str] | None = None,
) -> ConnectedAccount:
    """Check a long-lived token and learn its expiry by renewing it when Instagram allows that."""
    token = token.strip()
    if not token:
        raise ConnectionFailed("Paste an Instagram access token.")
    register_secret(token)
    now = now or datetime.now(UTC)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = await _get(client, f"/{VERSION}/me", "checking the token", params={"fields": "user_id,username,name"},
                        headers={"Authorization": f"Bearer {token}"})
        values = token_values(token, now, expires_in)
        if expires_in is None:
            # A pasted token's age is unknown: renew it for a known 60 days. Instagram refuses under
            # 24 h, which means the token is new and the default expiry is right.
            try:
                response = await client.get("/refresh_access_token", params={
                    "grant_type": "ig_refresh_token", "access_token": token})
                if response.status_code == 200:
                    body = response.json()
                    values = token_values(str(body["access_token"]), now, body.get("expires_in"))
            except httpx.HTTPError:
                pass
    user_id = str(me.get("user_id") or me.get("id") or "")
    if not user_id:
        raise ConnectionFailed("Instagram did not say which account this token belongs to.")
    return ConnectedAccount(
        platform=Platform.INSTAGRAM, handle=str(me.get("username") or user_id),
        display_name=str(me.get("name") or me.get("username") or ""),
        settings={"user_id": user_id}, secrets={**values, **(extra_secrets or {})},
    )


class InstagramBrowserSignIn:
    """Sign in in the browser, then paste the HTTPS address the browser ends on.

    `redirect_uri` is the address registered for the Meta app (for example
    https://127.0.0.1:8443/callback/instagram); nothing needs to listen there.
    """

    def __init__(self, app_id: str, app_secret: str, redirect_uri: str, *, api_base: str = DEFAULT_BASE,
                 oauth_base: str = OAUTH_BASE, authorize_url: str = AUTHORIZE_URL,
                 tuning: Tuning | None = None) -> None:
        self.app_id, self.app_secret = app_id.strip(), app_secret.strip()
        register_secret(self.app_secret)
        self.api_base, self.oauth_base = api_base.rstrip("/"), oauth_base.rstrip("/")
        self.tuning = tuning or Tuning()
        self.pending = PendingAuthorization("instagram", redirect_uri)
        self.authorization_url = f"{authorize_url}?" + urlencode({
            "client_id": self.app_id, "redirect_uri": redirect_uri, "scope": SCOPES, "response_type": "code",
            "state": self.pending.state,
        })

    async def finish(self, pasted_address: str) -> ConnectedAccount:
        code = code_from_pasted_redirect(pasted_address, self.pending)
        async with create_client(self.tuning) as client:
            short = await _get(client, f"{self.oauth_base}/oauth/access_token", "the sign-in code", method="POST",
                               data={"client_id": self.app_id, "client_secret": self.app_secret, "code": code,
                                     "grant_type": "authorization_code", "redirect_uri": self.pending.redirect_uri})
            # The answer's shape varies between Meta's pages: a flat object or {"data": [{...}]}.
            item = (short.get("data") or [short])[0] if isinstance(short.get("data"), list) else short
            short_token = str(item.get("access_token") or "")
            if not short_token:
                raise ConnectionFailed("Instagram did not return a token for the sign-in code.")
            register_secret(short_token)
            long = await _get(client, f"{self.api_base}/access_token", "a long-lived token", params={
                "grant_type": "ig_exchange_token", "client_secret": self.app_secret, "access_token": short_token,
            })
        connected = await account_from_token(
            str(long["access_token"]), api_base=self.api_base, tuning=self.tuning,
            expires_in=float(long.get("expires_in") or 0) or None, extra_secrets={"app_secret": self.app_secret},
        )
        connected.settings["app_id"] = self.app_id
        return connected
