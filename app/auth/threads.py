"""Connecting a Threads account (platforms.md §1).

Meta accepts only HTTPS redirect addresses, so a plain loopback listener cannot receive the
answer. Two ways in: paste a long-lived token made in Meta's developer tools, or sign in in
the browser and paste the address it ends on (checked exactly as the listener would check it).
"""

from __future__ import annotations

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
from app.platforms.meta import parse_graph_error
from app.platforms.threads import DEFAULT_BASE, VERSION, token_values

AUTHORIZE_URL = "https://threads.net/oauth/authorize"
SCOPES = "threads_basic,threads_content_publish,threads_manage_replies"


async def _get(client: httpx.AsyncClient, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(kwargs.pop("method", "GET"), path, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Threads while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        error = parse_graph_error(response.content)
        detail = error.shown if error else f"HTTP {response.status_code}"
        raise ConnectionFailed(f"Threads refused {what}: {detail}")
    data: dict[str, Any] = response.json()
    return data


async def account_from_token(
    token: str, *, api_base: str = DEFAULT_BASE, tuning: Tuning | None = None, now: datetime | None = None,
    expires_in: float | None = None,
) -> ConnectedAccount:
    """Check a long-lived token and learn its expiry by renewing it when Threads allows that."""
    token = token.strip()
    if not token:
        raise ConnectionFailed("Paste a Threads access token.")
    register_secret(token)
    now = now or datetime.now(UTC)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = await _get(client, f"/{VERSION}/me", "checking the token", params={"fields": "id,username,name"},
                        headers={"Authorization": f"Bearer {token}"})
        values = token_values(token, now, expires_in)
        if expires_in is None:
            # A pasted token's age is unknown: renew it now for a known 60 days. Threads refuses
            # under 24 h, which means the token is new and the default expiry is right.
            try:
                response = await client.get("/refresh_access_token", params={
                    "grant_type": "th_refresh_token", "access_token": token})
                if response.status_code == 200:
                    body = response.json()
                    values = token_values(str(body["access_token"]), now, body.get("expires_in"))
            except httpx.HTTPError:
                pass
    return ConnectedAccount(
        platform=Platform.THREADS, handle=str(me.get("username") or me.get("id")),
        display_name=str(me.get("name") or me.get("username") or ""),
        settings={"user_id": str(me["id"])}, secrets=values,
    )


class ThreadsBrowserSignIn:
    """Sign in in the browser, then paste the HTTPS address the browser ends on.

    `redirect_uri` is the address registered for the Meta app (for example
    https://127.0.0.1:8443/callback/threads); nothing needs to listen there.
    """

    def __init__(self, app_id: str, app_secret: str, redirect_uri: str, *, api_base: str = DEFAULT_BASE,
                 authorize_url: str = AUTHORIZE_URL, tuning: Tuning | None = None) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        register_secret(app_secret)
        self.api_base = api_base.rstrip("/")
        self.tuning = tuning or Tuning()
        self.pending = PendingAuthorization("threads", redirect_uri)
        self.authorization_url = f"{authorize_url}?" + urlencode({
            "client_id": app_id, "redirect_uri": redirect_uri, "scope": SCOPES, "response_type": "code",
            "state": self.pending.state,
        })

    async def finish(self, pasted_address: str) -> ConnectedAccount:
        code = code_from_pasted_redirect(pasted_address, self.pending)
        async with create_client(self.tuning, base_url=self.api_base) as client:
            short = await _get(client, "/oauth/access_token", "the sign-in code", method="POST", data={
                "client_id": self.app_id, "client_secret": self.app_secret, "code": code,
                "grant_type": "authorization_code", "redirect_uri": self.pending.redirect_uri,
            })
            register_secret(str(short.get("access_token") or ""))
            long = await _get(client, "/access_token", "a long-lived token", params={
                "grant_type": "th_exchange_token", "client_secret": self.app_secret,
                "access_token": str(short["access_token"]),
            })
        return await account_from_token(str(long["access_token"]), api_base=self.api_base, tuning=self.tuning,
                                        expires_in=float(long.get("expires_in") or 0) or None)
