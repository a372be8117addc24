"""Signing in to Bluesky with an app password (platforms.md §2, mode A).

The handle, the DID and the PDS address belong to the account; the app password and the
session tokens go to the keyring. The app password is kept so Outpost can sign in again when
the refresh token has expired (after about 90 days) without asking.
"""

from __future__ import annotations

from typing import Any

import httpx

from app.auth.accounts import ConnectedAccount, ConnectionFailed
from app.core.errors import OutpostError
from app.core.models import Platform
from app.core.redact import register_secret
from app.platforms.http import Tuning, create_client, describe_transport_error, server_address

DEFAULT_SERVICE = "https://bsky.social"
APP_PASSWORD_HINT = "Create an app password in Bluesky under Settings > Privacy and security > App passwords."  # noqa: S105 (a hint, not a password)


class SignInRefused(ConnectionFailed):
    """Bluesky refused the handle and app password."""


def pds_from_session(session: dict[str, Any], fallback: str) -> str:
    """The account's PDS from the DID document's `#atproto_pds` service, else the service used."""
    doc = session.get("didDoc") or {}
    for service in doc.get("service") or []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = str(service.get("serviceEndpoint") or "")
            if endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return fallback.rstrip("/")


def normalize_service(service: str) -> str:
    """The PDS or entryway address the person typed (`bsky.social`, `127.0.0.1:2583`), checked."""
    try:
        return server_address(service or DEFAULT_SERVICE, what="Bluesky server (PDS)", example="https://bsky.social")
    except OutpostError as exc:
        raise ConnectionFailed(str(exc)) from None


async def create_session(client: httpx.AsyncClient, identifier: str, password: str) -> dict[str, Any]:
    """`com.atproto.server.createSession`; raises SignInRefused or ConnectionFailed."""
    register_secret(password)
    try:
        response = await client.post("/xrpc/com.atproto.server.createSession",
                                     json={"identifier": identifier, "password": password})
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"Could not reach Bluesky to sign in: {describe_transport_error(exc)}.") from None
    if response.status_code == 200:
        session: dict[str, Any] = response.json()
        register_secret(session.get("accessJwt"))
        register_secret(session.get("refreshJwt"))
        return session
    try:
        error = str(response.json().get("error") or "")
    except ValueError:
        error = ""
    if error == "AuthFactorTokenRequired":
        raise SignInRefused(f"Bluesky asks for a confirmation code: use an app password instead. {APP_PASSWORD_HINT}")
    if error == "AccountTakedown":
        raise SignInRefused("Bluesky says this account has been taken down.")
    if response.status_code in (400, 401):
        raise SignInRefused(f"Bluesky did not accept that handle and app password. {APP_PASSWORD_HINT}")
    if response.status_code == 429:
        raise ConnectionFailed("Bluesky limits sign-ins; wait a few minutes and try again.")
    raise ConnectionFailed(f"Bluesky could not sign in right now (HTTP {response.status_code}). Try again later.")


async def sign_in(
    handle: str, app_password: str, *, service: str = DEFAULT_SERVICE, tuning: Tuning | None = None,
) -> ConnectedAccount:
    handle = handle.strip().lstrip("@")
    if not handle or not app_password.strip():
        raise ConnectionFailed(f"Enter your Bluesky handle and an app password. {APP_PASSWORD_HINT}")
    service = normalize_service(service)
    async with create_client(tuning or Tuning(), base_url=service) as client:
        session = await create_session(client, handle, app_password.strip())
    return ConnectedAccount(
        platform=Platform.BLUESKY, handle=str(session.get("handle") or handle),
        display_name=str(session.get("handle") or handle), server=pds_from_session(session, service),
        settings={"did": str(session["did"])},
        secrets={"app_password": app_password.strip(), "access_jwt": str(session["accessJwt"]),
                 "refresh_jwt": str(session["refreshJwt"])},
    )


async def end_session(service: str, secrets: dict[str, str], *, tuning: Tuning | None = None) -> bool:
    """`com.atproto.server.deleteSession` with the refresh token; True when Bluesky ended it."""
    refresh = secrets.get("refresh_jwt")
    if not refresh:
        return False
    try:
        async with create_client(tuning or Tuning(), base_url=(service or DEFAULT_SERVICE).rstrip("/")) as client:
            response = await client.post("/xrpc/com.atproto.server.deleteSession",
                                         headers={"Authorization": f"Bearer {refresh}"})
    except httpx.HTTPError:
        return False
    return response.status_code == 200
