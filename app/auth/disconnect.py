"""Removing an account's access: revoke where the platform allows it, then delete its secrets."""

from __future__ import annotations

import logging

from app.auth import bluesky, mastodon
from app.auth.secrets import NoKeyringAvailable
from app.core.models import AccountInfo, Platform
from app.platforms.base import Secrets
from app.platforms.http import Tuning

log = logging.getLogger(__name__)


async def forget_account(
    account: AccountInfo, secrets: Secrets, *, api_base: dict[str, str] | None = None, tuning: Tuning | None = None,
) -> list[str]:
    """Revoke the account's token where possible and delete its keyring entries.

    Returns notes for the person (e.g. "revoke access on the website"); never raises for a
    failed revocation, since the local secrets are deleted either way.
    """
    notes: list[str] = []
    try:
        values = secrets.get(account.id) or {}
    except NoKeyringAvailable as exc:
        return [str(exc)]
    if account.platform is Platform.MASTODON:
        server = (api_base or {}).get("mastodon") or account.server
        if values and not await mastodon.revoke(server, values, tuning=tuning):
            notes.append("Outpost could not revoke its access on Mastodon; remove it under Preferences > "
                         "Account > Authorized apps on your server.")
    elif account.platform is Platform.BLUESKY and values:
        await bluesky.end_session((api_base or {}).get("bluesky") or account.server, values, tuning=tuning)
        notes.append("Also delete Outpost's app password in Bluesky under Settings > Privacy and security > "
                     "App passwords.")
    elif account.platform is Platform.THREADS and values:
        notes.append("To revoke Outpost's access on Threads, remove it under Settings > Website permissions.")
    elif account.platform is Platform.YOUTUBE and values:
        from app.auth import youtube

        base = (api_base or {}).get("youtube")
        url = f"{base}/revoke" if base else youtube.REVOKE_URL
        if not await youtube.revoke(values, revoke_url=url, tuning=tuning):
            notes.append("Outpost could not revoke its access at Google; remove it under "
                         "myaccount.google.com > Security > Third-party access.")
    elif account.platform in (Platform.X, Platform.TIKTOK) and values:
        from app.auth import tiktok, x

        module = x if account.platform is Platform.X else tiktok
        base = (api_base or {}).get(account.platform.value) or module.DEFAULT_BASE
        if not await module.revoke(values, api_base=base, tuning=tuning):
            notes.append(f"Outpost could not revoke its access on {account.platform.label}; remove it in your "
                         f"{account.platform.label} settings under connected apps.")
    elif account.platform in (Platform.INSTAGRAM, Platform.FACEBOOK) and values:
        notes.append(f"To revoke Outpost's access on {account.platform.label}, remove your app under Facebook "
                     "Settings > Business integrations.")
    secrets.delete(account.id)
    return notes
