"""Connecting a Mastodon account on any server: app registration, then the loopback OAuth flow
with PKCE (platforms.md §3), or a token the person pasted. Limits come from the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.auth.loopback import AuthCancelled, LoopbackListener
from app.auth.pkce import PendingAuthorization
from app.core.errors import OutpostError
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.http import Tuning, create_client, describe_transport_error, server_address

log = logging.getLogger(__name__)

SCOPES = "read:accounts write:statuses write:media"
CLIENT_NAME = "Outpost"
WEBSITE = "https://github.com/outpost-app/outpost"


def normalize_server(server: str) -> str:
    """`mastodon.social` or `https://mastodon.social/` -> `https://mastodon.social`; ConnectionFailed
    for anything that is not a web server's address (`not a server!`, `javascript:…`, a bad port)."""
    try:
        return server_address(server, what="Mastodon server", example="mastodon.social")
    except OutpostError as exc:
        raise ConnectionFailed(str(exc)) from None


async def _call(client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    server = str(client.base_url).rstrip("/")
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach the Mastodon server while {what}: {describe_transport_error(exc)}.") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200:
        detail = str(data.get("error_description") or data.get("error") or "") if isinstance(data, dict) else ""
        if response.status_code in (404, 405) and not detail:
            raise ConnectionFailed(f"{server} does not look like a Mastodon server (no {url} there, HTTP "
                                   f"{response.status_code}). Check the address: it is the part after @ in "
                                   "your handle, like mastodon.social.")
        raise ConnectionFailed(
            f"The Mastodon server {server} refused {what} (HTTP {response.status_code}{': ' + detail if detail else ''})."
        )
    if not isinstance(data, dict):
        raise ConnectionFailed(f"{server} answered, but not like a Mastodon server, while {what}. Check the address: "
                               "it is the part after @ in your handle, like mastodon.social.")
    return data


def limits_from_instance(instance: dict[str, Any]) -> dict[str, object]:
    """Rule overrides (core.rules names) from `GET /api/v2/instance` -> `configuration`."""
    config = instance.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    out: dict[str, object] = {}
    for key, value in (
        ("text_limit", statuses.get("max_characters")),
        ("url_weight", statuses.get("characters_reserved_per_url")),
        ("max_media", statuses.get("max_media_attachments")),
        ("max_images", statuses.get("max_media_attachments")),
        ("max_image_bytes", media.get("image_size_limit")),
        ("max_video_bytes", media.get("video_size_limit")),
    ):
        if isinstance(value, int) and value > 0:
            out[key] = value
    return out


async def account_from_token(
    server: str, token: str, *, client_id: str = "", client_secret: str = "", tuning: Tuning | None = None,
) -> ConnectedAccount:
    """Check a token with `verify_credentials` and read the server's limits."""
    server = normalize_server(server)
    register_secret(token)
    async with create_client(tuning or Tuning(), base_url=server) as client:
        me = await _call(client, "GET", "/api/v1/accounts/verify_credentials", "checking the sign-in",
                         headers={"Authorization": f"Bearer {token}"})
        instance = await _call(client, "GET", "/api/v2/instance", "reading the server's limits")
    host = urlsplit(server).hostname or server
    settings: dict[str, object] = {"mastodon_account_id": str(me.get("id", "")), **limits_from_instance(instance)}
    secrets = {"access_token": token}
    if client_id and client_secret:
        secrets |= {"client_id": client_id, "client_secret": client_secret}
    return ConnectedAccount(
        platform=Platform.MASTODON, handle=f"@{me.get('acct') or me.get('username')}@{host}",
        display_name=str(me.get("display_name") or me.get("username") or ""), server=server,
        settings=settings, secrets=secrets,
    )


class MastodonSignIn:
    """One sign-in on `server`: registers Outpost for the listener's exact redirect address,
    opens the authorization page, waits for the loopback answer, exchanges the code with PKCE.
    `cancel()` may be called from the UI at any time.
    """

    def __init__(self, server: str, *, tuning: Tuning | None = None, timeout: float = 300.0) -> None:
        self.server = normalize_server(server)
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("mastodon", timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        pending.issuer = self.server  # a server that sends `iss` must name itself
        try:
            async with create_client(self.tuning, base_url=self.server) as client:
                app = await _call(client, "POST", "/api/v1/apps", "registering Outpost", json={
                    "client_name": CLIENT_NAME, "redirect_uris": [pending.redirect_uri],
                    "scopes": SCOPES, "website": WEBSITE,
                })
                client_id, client_secret = str(app["client_id"]), str(app["client_secret"])
                register_secret(client_secret)
                self.authorization_url = self._authorization_url(client_id, pending)
                if self._cancelled:
                    raise AuthCancelled("Sign-in cancelled.")
                open_url(self.authorization_url)
                code = await self.listener.wait()
                token = await _call(client, "POST", "/oauth/token", "finishing the sign-in", data={
                    "grant_type": "authorization_code", "code": code, "client_id": client_id,
                    "client_secret": client_secret, "redirect_uri": pending.redirect_uri,
                    "code_verifier": pending.verifier, "scope": SCOPES,
                })
            access = str(token.get("access_token") or "")
            if not access:
                raise ConnectionFailed("The Mastodon server did not return a token.")
            return await account_from_token(self.server, access, client_id=client_id, client_secret=client_secret,
                                            tuning=self.tuning)
        finally:
            await self.listener.aclose()

    def _authorization_url(self, client_id: str, pending: PendingAuthorization) -> str:
        query = urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": pending.redirect_uri,
            "scope": SCOPES, "state": pending.state, "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        })
        return f"{self.server}/oauth/authorize?{query}"


async def revoke(server: str, secrets: dict[str, str], *, tuning: Tuning | None = None) -> bool:
    """Revoke the token with `POST /oauth/revoke` when Outpost registered the app; True if revoked."""
    token, client_id, client_secret = (secrets.get(k, "") for k in ("access_token", "client_id", "client_secret"))
    if not (token and client_id and client_secret):
        return False
    try:
        async with create_client(tuning or Tuning(), base_url=normalize_server(server)) as client:
            response = await client.post("/oauth/revoke", data={
                "client_id": client_id, "client_secret": client_secret, "token": token,
            })
    except httpx.HTTPError as exc:
        log.warning("Could not revoke the Mastodon token (%s)", type(exc).__name__)
        return False
    return response.status_code == 200
