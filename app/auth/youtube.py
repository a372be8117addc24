"""Connecting a YouTube channel (Google OAuth for desktop apps; platforms.md §10).

The person creates a "Desktop app" OAuth client in their own Google Cloud project and enters
its client id and secret once; Google accepts a loopback redirect on 127.0.0.1 with any port,
so Outpost's one-shot listener receives the answer, and the code is exchanged with PKCE S256.
The client secret is not confidential in a desktop app (reliability.md O12) but Google still
wants it on every refresh, so it is kept in the keyring with the tokens.
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
from app.platforms.youtube import API_BASE, TOKEN_URL, token_values

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
SCOPES = "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.force-ssl"


async def _call(client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Google while {what}: {describe_transport_error(exc)}.") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict):
        err = body.get("error") if isinstance(body, dict) else None
        detail = (err.get("message") if isinstance(err, dict) else body.get("error_description") or err) or ""
        raise ConnectionFailed(f"Google refused {what} (HTTP {response.status_code}{': ' + str(detail) if detail else ''}).")
    return body


async def account_from_tokens(
    token_body: dict[str, Any], client_id: str, client_secret: str, *, api_base: str = API_BASE,
    tuning: Tuning | None = None, now: datetime | None = None,
) -> ConnectedAccount:
    """Check the tokens by reading the signed-in channel; the secrets carry everything a refresh needs."""
    if not token_body.get("refresh_token"):
        raise ConnectionFailed("Google did not hand out a refresh token, so Outpost could not keep publishing. "
                               "Remove Outpost under myaccount.google.com › Security › Third-party access, then "
                               "connect again.")
    secrets = token_values(token_body, now or datetime.now(UTC), {"client_id": client_id,
                                                                   "client_secret": client_secret})
    async with create_client(tuning or Tuning()) as client:
        body = await _call(client, "GET", f"{api_base.rstrip('/')}/youtube/v3/channels", "reading your channel",
                           params={"part": "snippet", "mine": "true"},
                           headers={"Authorization": f"Bearer {secrets['access_token']}"})
    channels = body.get("items") or []
    if not channels:
        raise ConnectionFailed("This Google account has no YouTube channel yet. Create one on youtube.com first.")
    channel = channels[0]
    snippet = channel.get("snippet") or {}
    return ConnectedAccount(
        platform=Platform.YOUTUBE, handle=str(snippet.get("customUrl") or channel["id"]),
        display_name=str(snippet.get("title") or ""), settings={"channel_id": str(channel["id"])}, secrets=secrets,
    )


class YouTubeSignIn:
    """One sign-in: opens Google's consent page, waits for the loopback answer, exchanges the
    code with PKCE. `cancel()` may be called from the UI at any time."""

    def __init__(self, client_id: str, client_secret: str, *, api_base: str = API_BASE,
                 authorize_url: str = AUTHORIZE_URL, token_url: str = TOKEN_URL, tuning: Tuning | None = None,
                 timeout: float = 300.0) -> None:
        self.client_id, self.client_secret = client_id.strip(), client_secret.strip()
        if not self.client_id or not self.client_secret:
            raise ConnectionFailed("Enter the client id and client secret of your Google Cloud \"Desktop app\" "
                                   "OAuth client.")
        register_secret(self.client_secret)
        self.api_base, self.authorize_url, self.token_url = api_base, authorize_url, token_url
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("youtube", timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        try:
            self.authorization_url = f"{self.authorize_url}?" + urlencode({
                "client_id": self.client_id, "redirect_uri": pending.redirect_uri, "response_type": "code",
                "scope": SCOPES, "state": pending.state, "code_challenge": pending.challenge,
                "code_challenge_method": "S256", "access_type": "offline", "prompt": "consent",
            })
            if self._cancelled:
                raise AuthCancelled("Sign-in cancelled.")
            open_url(self.authorization_url)
            code = await self.listener.wait()
            async with create_client(self.tuning) as client:
                tokens = await _call(client, "POST", self.token_url, "finishing the sign-in", data={
                    "grant_type": "authorization_code", "code": code, "client_id": self.client_id,
                    "client_secret": self.client_secret, "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier,
                })
        finally:
            await self.listener.aclose()
        return await account_from_tokens(tokens, self.client_id, self.client_secret, api_base=self.api_base,
                                         tuning=self.tuning)


REVOKE_URL = "https://oauth2.googleapis.com/revoke"


async def revoke(secrets: dict[str, str], *, revoke_url: str = REVOKE_URL, tuning: Tuning | None = None) -> bool:
    """Revoke the refresh token (and with it the access token) at Google; True when Google confirmed."""
    token = secrets.get("refresh_token") or secrets.get("access_token")
    if not token:
        return False
    try:
        async with create_client(tuning or Tuning()) as client:
            response = await client.post(revoke_url, data={"token": token})
    except httpx.HTTPError:
        return False
    return response.status_code == 200
