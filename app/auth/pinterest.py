"""Connecting a Pinterest account (platforms.md §8): the authorization-code flow on a fixed loopback
port registered in the Pinterest app (`http://127.0.0.1:<port>/callback/pinterest`), the code
exchanged with the app id and secret as HTTP Basic credentials, then a board chosen for the
account's pins. Pinterest documents no PKCE; `state` and the secret protect the exchange.
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
from app.platforms.pinterest import DEFAULT_BASE, basic_auth, token_values

AUTHORIZE_URL = "https://www.pinterest.com/oauth/"
SCOPES = "boards:read,pins:read,pins:write,user_accounts:read"
DEFAULT_PORT = 8085  # the port of Pinterest's own quickstart


def redirect_uri(port: int = DEFAULT_PORT) -> str:
    """The redirect URI to add to the Pinterest app's configuration."""
    return f"http://127.0.0.1:{port}/callback/pinterest"


async def _call(client: httpx.AsyncClient, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Pinterest while {what}: {describe_transport_error(exc)}.") from None
    if response.status_code != 200:
        try:
            detail = str(response.json().get("message") or "")
        except ValueError:
            detail = ""
        raise ConnectionFailed(f"Pinterest refused {what} (HTTP {response.status_code}{': ' + detail if detail else ''}).")
    data: dict[str, Any] = response.json()
    return data


async def account_from_tokens(tokens: dict[str, Any], app_id: str, app_secret: str, *, board: str = "",
                              api_base: str = DEFAULT_BASE, tuning: Tuning | None = None) -> ConnectedAccount:
    """Check the token, read the boards and pick `board` (a name or id; the first board when empty)."""
    values = token_values(tokens, datetime.now(UTC), app_id, app_secret)
    auth = {"Authorization": f"Bearer {values['access_token']}"}
    async with create_client(tuning or Tuning(), base_url=api_base.rstrip("/")) as client:
        me = await _call(client, "GET", "/v5/user_account", "checking the sign-in", headers=auth)
        boards = (await _call(client, "GET", "/v5/boards", "listing your boards", headers=auth,
                              params={"page_size": "100"})).get("items") or []
    if not boards:
        raise ConnectionFailed("This Pinterest account has no boards yet. Create one on Pinterest, then connect again.")
    wanted = board.strip().lower()
    chosen = next((b for b in boards if wanted in (str(b.get("id")), str(b.get("name", "")).lower())), None) \
        if wanted else boards[0]
    if chosen is None:
        names = ", ".join(str(b.get("name")) for b in boards)
        raise ConnectionFailed(f"No board called {board!r}; your boards are: {names}.")
    username = str(me.get("username") or "")
    return ConnectedAccount(
        platform=Platform.PINTEREST, handle=username, display_name=f"{username} · {chosen.get('name')}",
        settings={"board_id": str(chosen["id"]), "board_name": str(chosen.get("name") or ""),
                  "boards": {str(b["id"]): str(b.get("name") or "") for b in boards}},
        secrets=values)


class PinterestSignIn:
    """One sign-in: listen on the registered port, open Pinterest's consent page, exchange the code."""

    def __init__(self, app_id: str, app_secret: str, *, board: str = "", port: int = DEFAULT_PORT,
                 api_base: str = DEFAULT_BASE, authorize_url: str = AUTHORIZE_URL, tuning: Tuning | None = None,
                 timeout: float = 300.0) -> None:
        if not app_id.strip() or not app_secret.strip():
            raise ConnectionFailed("Enter your Pinterest app id and app secret.")
        self.app_id, self.app_secret, self.board = app_id.strip(), app_secret.strip(), board
        register_secret(self.app_secret)
        self.api_base = api_base.rstrip("/")
        self.authorize_endpoint = authorize_url
        self.tuning = tuning or Tuning()
        self.listener = LoopbackListener("pinterest", port=port, timeout=timeout)
        self.authorization_url = ""
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self.listener.cancel()

    async def run(self, open_url: Callable[[str], object]) -> ConnectedAccount:
        pending = await self.listener.start()
        try:
            self.authorization_url = f"{self.authorize_endpoint}?" + urlencode({
                "client_id": self.app_id, "redirect_uri": pending.redirect_uri, "response_type": "code",
                "scope": SCOPES, "state": pending.state})
            if self._cancelled:
                raise AuthCancelled("Sign-in cancelled.")
            open_url(self.authorization_url)
            code = await self.listener.wait()
            async with create_client(self.tuning, base_url=self.api_base) as client:
                tokens = await _call(client, "POST", "/v5/oauth/token", "finishing the sign-in",
                                     headers=basic_auth(self.app_id, self.app_secret),
                                     data={"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": pending.redirect_uri})
        finally:
            await self.listener.aclose()
        return await account_from_tokens(tokens, self.app_id, self.app_secret, board=self.board, api_base=self.api_base,
                                         tuning=self.tuning)
