"""Connecting a LinkedIn account (platforms.md §5): the standard authorization-code flow with the
app's client secret, on a fixed loopback port registered in the LinkedIn developer portal
(`http://127.0.0.1:<port>/callback/linkedin`). LinkedIn's native PKCE flow (any port, no
secret) exists only for apps LinkedIn enables it for, so it is not the default.

Tokens last 60 days; only approved partners get refresh tokens. The account's settings keep the
expiry so the app can remind the person to reconnect in time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.auth.loopback import AuthCancelled, LoopbackListener
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.http import Tuning, create_client, describe_transport_error
from app.platforms.linkedin import DEFAULT_BASE, token_values

AUTH_BASE = "https://www.linkedin.com"
SCOPES = "openid profile w_member_social"
DEFAULT_PORT = 8722


def redirect_uri(port: int = DEFAULT_PORT) -> str:
    """The redirect URL to add under Auth > Authorized redirect URLs in the LinkedIn developer portal."""
    return f"http://127.0.0.1:{port}/callback/linkedin"


async def _call(client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach LinkedIn while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        try:
            body = response.json()
            detail = str(body.get("error_description") or body.get("message") or body.get("error") or "")
        except ValueError:
            detail = ""
        raise ConnectionFailed(f"LinkedIn refused {what} (HTTP {response.status_code}{': ' + detail if detail else ''}).")
    data: dict[str, Any] = response.json()
    return data


async def account_from_tokens(tokens: dict[str, Any], client_id: str, client_secret: str, *,
                              api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> ConnectedAccount:
    """Check the token with `/v2/userinfo` (OpenID) and build the account; the author is urn:li:person:<sub>."""
    values = token_values(tokens, datetime.now(UTC), client_id, client_secret)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = await _call(client, "GET", "/v2/userinfo", "checking the sign-in",
                         headers={"Authorization": f"Bearer {values['access_token']}"})
    sub = str(me.get("sub") or "")
    if not sub:
        raise ConnectionFailed("LinkedIn did not say who signed in; allow the openid and profile permissions.")
    name = str(me.get("name") or sub)
    return ConnectedAccount(platform=Platform.LINKEDIN, handle=name, display_name=name,
                            settings={"author": f"urn:li:person:{sub}", "token_expires_at": values["expires_at"]},
                            secrets=values)


class LinkedInSignIn:
    """One sign-in: listen on the registered port, open LinkedIn's consent page, exchange the code."""

    def __init__(self, client_id: str, client_secret: str, *, port: int = DEFAULT_PORT, api_base: str = DEFAULT_BASE,
                 auth_base: str = AUTH_BASE, tuning: Tuning | None = None, timeout: float = 300.0) -> None:
        if not client_id.strip() or not client_secret.strip():
            raise ConnectionFailed("Enter your LinkedIn app's client id and client secret.")
        self.client_id, self.client_secret = client_id.strip(), client_secret.strip()
        register_secret(self.client_secret)
        self.api_base, self.auth_base = api_base.rstrip("/"), auth_base.rstrip("/")
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("linkedin", port=port, timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        try:
            self.authorization_url = f"{self.auth_base}/oauth/v2/authorization?" + urlencode({
                "response_type": "code", "client_id": self.client_id, "redirect_uri": pending.redirect_uri,
                "state": pending.state, "scope": SCOPES})
            if self._cancelled:
                raise AuthCancelled("Sign-in cancelled.")
            open_url(self.authorization_url)
            code = await self.listener.wait()
            async with create_client(self.tuning) as client:
                tokens = await _call(client, "POST", f"{self.auth_base}/oauth/v2/accessToken", "finishing the sign-in",
                                     data={"grant_type": "authorization_code", "code": code,
                                           "client_id": self.client_id, "client_secret": self.client_secret,
                                           "redirect_uri": pending.redirect_uri})
        finally:
            await self.listener.aclose()
        return await account_from_tokens(tokens, self.client_id, self.client_secret, api_base=self.api_base,
                                         tuning=self.tuning)
