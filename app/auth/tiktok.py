"""Connecting a TikTok account with Login Kit for Desktop (platforms.md §9).

TikTok accepts a wildcard port for desktop redirects, so the person registers
`http://127.0.0.1:*/callback/tiktok` once and Outpost listens on any free port. PKCE is required
for desktop apps and the client secret is still sent; both stay on this computer (the secret in
the keyring, for refreshing the rotating tokens). TikTok's desktop challenge encoding is not
settled (platforms.md §9, unverified): standard base64url is the default, hex the alternative.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.auth.loopback import AuthCancelled, LoopbackListener
from app.auth.pkce import PendingAuthorization
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.http import Tuning, create_client, describe_transport_error
from app.platforms.tiktok import DEFAULT_BASE, token_values

AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
SCOPES = "user.info.basic,video.publish"
REDIRECT_TO_REGISTER = "http://127.0.0.1:*/callback/tiktok"
ENCODINGS = ("base64url", "hex")


def challenge(pending: PendingAuthorization, encoding: str) -> str:
    if encoding == "hex":
        return hashlib.sha256(pending.verifier.encode("ascii")).hexdigest()
    return pending.challenge


async def _call(client: httpx.AsyncClient, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach TikTok while {what}: {describe_transport_error(exc)}.") from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    error = body.get("error")
    if isinstance(error, dict):
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    else:
        code, message = str(error or ""), str(body.get("error_description") or "")
    if response.status_code != 200 or code not in ("", "ok"):
        hint = " Try the other challenge encoding." if "code challenge" in message.lower() else ""
        raise ConnectionFailed(f"TikTok refused {what} ({message or code or response.status_code}).{hint}")
    return body


async def account_from_tokens(tokens: dict[str, Any], client_key: str, client_secret: str, *,
                              api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> ConnectedAccount:
    """Check the tokens with `GET /v2/user/info/` and build the account. It counts as unaudited (posts stay
    private) until its settings say `audited`, which a reconnection leaves as it was."""
    values = token_values(tokens, datetime.now(UTC), client_key, client_secret)
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        body = await _call(client, "GET", "/v2/user/info/", "checking the sign-in",
                           params={"fields": "open_id,display_name,username"},
                           headers={"Authorization": f"Bearer {values['access_token']}"})
    user = (body.get("data") or {}).get("user") or {}
    username = str(user.get("username") or "")
    return ConnectedAccount(
        platform=Platform.TIKTOK, handle=f"@{username}" if username else str(user.get("open_id") or values["open_id"]),
        display_name=str(user.get("display_name") or username),
        settings={"open_id": str(user.get("open_id") or values["open_id"]), "username": username},
        secrets=values)


class TikTokSignIn:
    """One sign-in: any free loopback port, TikTok's consent page, the code exchanged with PKCE."""

    def __init__(self, client_key: str, client_secret: str, *, challenge_encoding: str = "base64url",
                 api_base: str = DEFAULT_BASE, authorize_url: str = AUTHORIZE_URL, tuning: Tuning | None = None,
                 timeout: float = 300.0) -> None:
        if not client_key.strip() or not client_secret.strip():
            raise ConnectionFailed("Enter your TikTok app's client key and client secret.")
        if challenge_encoding not in ENCODINGS:
            raise ConnectionFailed(f"The challenge encoding must be one of {', '.join(ENCODINGS)}.")
        self.client_key, self.client_secret = client_key.strip(), client_secret.strip()
        register_secret(self.client_secret)
        self.encoding = challenge_encoding
        self.api_base = api_base.rstrip("/")
        self.authorize_endpoint = authorize_url
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("tiktok", timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        try:
            self.authorization_url = f"{self.authorize_endpoint}?" + urlencode({
                "client_key": self.client_key, "scope": SCOPES, "redirect_uri": pending.redirect_uri,
                "state": pending.state, "response_type": "code", "code_challenge": challenge(pending, self.encoding),
                "code_challenge_method": "S256",
            })
            if self._cancelled:
                raise AuthCancelled("Sign-in cancelled.")
            open_url(self.authorization_url)
            code = await self.listener.wait()
            async with create_client(self.tuning, base_url=self.api_base) as client:
                tokens = await _call(client, "POST", "/v2/oauth/token/", "finishing the sign-in", data={
                    "client_key": self.client_key, "client_secret": self.client_secret, "code": code,
                    "grant_type": "authorization_code", "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier})
        finally:
            await self.listener.aclose()
        if "video.publish" not in str(tokens.get("scope") or "video.publish"):
            raise ConnectionFailed("TikTok did not grant permission to post videos (video.publish). Connect again "
                                   "and allow it; your TikTok app needs the Content Posting API with Direct Post.")
        return await account_from_tokens(tokens, self.client_key, self.client_secret, api_base=self.api_base,
                                         tuning=self.tuning)


async def revoke(secrets: dict[str, str], *, api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> bool:
    """Revoke the access token with `POST /v2/oauth/revoke/`, which also disconnects the app; True on success."""
    if not secrets.get("access_token"):
        return False
    try:
        async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
            response = await client.post("/v2/oauth/revoke/", data={
                "client_key": secrets.get("client_key", ""), "client_secret": secrets.get("client_secret", ""),
                "token": secrets["access_token"]})
    except httpx.HTTPError:
        return False
    return response.status_code == 200
