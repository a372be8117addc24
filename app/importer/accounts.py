"""Which of the user's accounts a row names, from its Account and Platform cells."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.models import AccountInfo, Platform

_PLATFORM_ALIASES = {
    "twitter": Platform.X,
    "x": Platform.X,
    "xtwitter": Platform.X,
    "fb": Platform.FACEBOOK,
    "facebookpage": Platform.FACEBOOK,
    "ig": Platform.INSTAGRAM,
    "insta": Platform.INSTAGRAM,
    "yt": Platform.YOUTUBE,
    "bsky": Platform.BLUESKY,
    "masto": Platform.MASTODON,
}
_SPLIT = re.compile(r"[,;\n]+")


class AccountError(ValueError):
    """A cell that does not name exactly one known account."""


def _norm(text: str) -> str:
    return text.strip().lstrip("@").casefold()


def platform_named(text: str) -> Platform | None:
    key = re.sub(r"[\W_]+", "", text.casefold())
    for p in Platform:
        if key in (p.value, re.sub(r"[\W_]+", "", p.label.casefold())):
            return p
    return _PLATFORM_ALIASES.get(key)


class AccountResolver:
    def __init__(self, accounts: Sequence[AccountInfo]) -> None:
        self.accounts = list(accounts)
        self._by_id = {a.id: a for a in self.accounts}
        self._memo: dict[tuple[str, str, int | None], tuple[AccountInfo, ...] | AccountError] = {}

    def reference(self, account: AccountInfo) -> str:
        """How export names an account: its handle, with the platform when the handle is shared."""
        handle = account.handle
        if sum(1 for a in self.accounts if _norm(a.handle) == _norm(handle)) > 1:
            return f"{account.platform.value}:{handle}"
        return handle

    def resolve(self, account_cell: str, platform_cell: str, default_id: int | None) -> tuple[AccountInfo, ...]:
        """The accounts a row names; raises AccountError saying why none (or several) match."""
        key = (account_cell, platform_cell, default_id)
        found = self._memo.get(key)
        if found is None:  # a sheet names the same few accounts over and over
            try:
                found = self._resolve(account_cell, platform_cell, default_id)
            except AccountError as exc:
                found = exc
            self._memo[key] = found
        if isinstance(found, AccountError):
            raise AccountError(str(found))
        return found

    def _resolve(self, account_cell: str, platform_cell: str, default_id: int | None) -> tuple[AccountInfo, ...]:
        platforms: list[Platform] = []
        for token in (t.strip() for t in _SPLIT.split(platform_cell) if t.strip()):
            p = platform_named(token)
            if p is None:
                raise AccountError(f"{token!r} is not a platform Outpost knows.")
            platforms.append(p)
        tokens = [t.strip() for t in _SPLIT.split(account_cell) if t.strip()]
        found: list[AccountInfo] = []
        if tokens:
            for token in tokens:
                found.append(self._one(token, platforms))
        elif platforms:
            for p in platforms:
                on = [a for a in self.accounts if a.platform is p]
                if len(on) != 1:
                    fits = ", ".join(self.reference(a) for a in on[:6])
                    raise AccountError(
                        f"You have {len(on)} {p.label} accounts ({fits}); name one in the Account column."
                        if on else f"You have no {p.label} account; connect one first."
                    )
                found.append(on[0])
        elif default_id is not None and default_id in self._by_id:
            found.append(self._by_id[default_id])
        else:
            raise AccountError("No account: fill the Account column or choose a default account.")
        return tuple({a.id: a for a in found}.values())

    def _one(self, token: str, platforms: Sequence[Platform]) -> AccountInfo:
        pool = [a for a in self.accounts if not platforms or a.platform in platforms]
        if token.isdigit() and int(token) in self._by_id:
            return self._by_id[int(token)]
        head, sep, rest = token.partition(":")
        if sep and (p := platform_named(head)) is not None and not rest.startswith("//"):
            pool = [a for a in pool if a.platform is p]
            token = rest
        key = _norm(token)
        for matcher in (
            lambda a: _norm(a.handle) == key,
            lambda a: _norm(a.handle).split("@")[0] == key,
            # With a platform to narrow it, "alice" is alice.bsky.social's first label.
            lambda a: bool(platforms) and _norm(a.handle).split("@")[0].split(".")[0] == key,
            lambda a: a.label.casefold() == token.strip().casefold(),
            lambda a: bool(a.display_name) and a.display_name.casefold() == token.strip().casefold(),
        ):
            hits = [a for a in pool if matcher(a)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise AccountError(
                    f"{token!r} matches {len(hits)} accounts; write platform:handle, e.g. "
                    f"{hits[0].platform.value}:{hits[0].handle}."
                )
        named = platform_named(token)
        if named is not None:  # "bluesky", "Threads": the only account on that platform
            on = [a for a in pool if a.platform is named]
            if len(on) == 1:
                return on[0]
            if on:
                fits = ", ".join(self.reference(a) for a in on[:6])
                raise AccountError(f"{token!r} fits {len(on)} {named.label} accounts ({fits}); write one of them.")
            raise AccountError(f"You have no {named.label} account; connect one first, or name another account.")
        known = ", ".join(self.reference(a) for a in pool[:6]) or "none connected"
        where = f" on {', '.join(p.label for p in platforms)}" if platforms else ""
        raise AccountError(f"No account called {token!r}{where}. Your accounts{where}: {known}.")
