"""Connecting an X account (platforms.md §4): OAuth 2.0 authorization code with PKCE S256.

X matches callback addresses exactly and has no wildcard port, so the person registers
`http://127.0.0.1:<port>/callback/x` in their X developer app once and Outpost listens on that
fixed port. A "Native App" is a public client (no secret); a "Web App" also has a client secret,
which goes to the keyring with the tokens so Outpost can renew them.
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
from app.platforms.x import DEFAULT_BASE, token_request_auth, token_values

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
SCOPES = "tweet.read tweet.write users.read offline.access media.write"
DEFAULT_PORT = 8721


def redirect_uri(port: int = DEFAULT_PORT) -> str:
    """The callback address to register in the X developer portal for this port."""
    return f"http://127.0.0.1:{port}/callback/x"


async def _call(client: httpx.AsyncClient, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach X while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        try:
            body = response.json()
            detail = str(body.get("error_description") or body.get("detail") or body.get("error") or "")
        except ValueError:
            detail = ""
        raise ConnectionFailed(f"X refused {what} (HTTP {response.status_code}{': ' + detail if detail else ''}).")
    data: dict[str, Any] = response.json()
    return data


async def account_from_tokens(tokens: dict[str, Any], client_id: str, client_secret: str = "", *,
                              api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> ConnectedAccount:
    """Check a token answer with `GET /2/users/me` and build the account."""
    values = token_values(tokens, datetime.now(UTC), client_id, client_secret)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = (await _call(client, "GET", "/2/users/me", "checking the sign-in",
                          headers={"Authorization": f"Bearer {values['access_token']}"})).get("data") or {}
    username = str(me.get("username") or me.get("id"))
    return ConnectedAccount(platform=Platform.X, handle=f"@{username}", display_name=str(me.get("name") or username),
                            settings={"user_id": str(me["id"]), "username": username}, secrets=values)


class XSignIn:
    """One sign-in: listen on the registered port, open X's consent page, exchange the code with PKCE."""

    def __init__(self, client_id: str, client_secret: str = "", *, port: int = DEFAULT_PORT,
                 api_base: str = DEFAULT_BASE, authorize_url: str = AUTHORIZE_URL, tuning: Tuning | None = None,
                 timeout: float = 300.0) -> None:
        if not client_id.strip():
            raise ConnectionFailed("Enter the OAuth 2.0 client id of your X developer app.")
        self.client_id, self.client_secret = client_id.strip(), client_secret.strip()
        register_secret(self.client_secret)
        self.api_base = api_base.rstrip("/")
        self.authorize_endpoint = authorize_url
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("x", port=port, timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        try:
            self.authorization_url = f"{self.authorize_endpoint}?" + urlencode({
                "response_type": "code", "client_id": self.client_id, "redirect_uri": pending.redirect_uri,
                "scope": SCOPES, "state": pending.state, "code_challenge": pending.challenge,
                "code_challenge_method": "S256",
            })
            if self._cancelled:
                raise AuthCancelled("Sign-in cancelled.")
            open_url(self.authorization_url)
            code = await self.listener.wait()
            headers, form = token_request_auth(self.client_id, self.client_secret)
            # X's codes live 30 seconds: exchange at once.
            async with create_client(self.tuning, base_url=self.api_base) as client:
                tokens = await _call(client, "POST", "/2/oauth2/token", "finishing the sign-in", headers=headers, data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier, **form})
        finally:
            await self.listener.aclose()
        if not tokens.get("refresh_token"):
            raise ConnectionFailed("X did not return a refresh token; Outpost needs the offline.access permission.")
        return await account_from_tokens(tokens, self.client_id, self.client_secret, api_base=self.api_base,
                                         tuning=self.tuning)


async def revoke(secrets: dict[str, str], *, api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> bool:
    """Revoke the refresh and access tokens with `POST /2/oauth2/revoke`; True when X accepted both."""
    headers, form = token_request_auth(secrets.get("client_id", ""), secrets.get("client_secret", ""))
    revoked = True
    try:
        async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
            for kind in ("refresh_token", "access_token"):
                if secrets.get(kind):
                    response = await client.post("/2/oauth2/revoke", headers=headers, data={
                        "token": secrets[kind], "token_type_hint": kind, **form})
                    revoked = revoked and response.status_code == 200
    except httpx.HTTPError:
        return False
    return revoked
