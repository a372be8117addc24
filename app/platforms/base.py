"""The one small protocol every platform adapter implements. The engine knows adapters only
through it.

A publish is journaled by the engine before `publish` is called (an Attempt row in state
IN_FLIGHT). Multi-step flows record each step through `StepJournal.record` as soon as the
platform returns an id (container, media, upload session), so `reconcile` can look the post up
after a crash or a timeout (reliability.md P4, P7).

Failures are raised as `app.core.errors.PublishError` with an `ErrorKind`:
- TRANSIENT only when nothing can have been created (connect error, DNS, 5xx on a read);
- UNKNOWN when a create call may have reached the platform (read timeout, reset, 5xx on create);
- AUTH after the adapter's own single refresh attempt failed;
- RATE_LIMIT with `retry_after` seconds when the platform says when to come back;
- PERMANENT for validation and policy refusals, with the platform's message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from app.core.language import system_language
from app.core.models import AccountInfo, Platform, PostContent, Problem
from app.core.rules import PlatformRules

if TYPE_CHECKING:
    from app.core.errors import PublishError


@dataclass(frozen=True)
class PublishJob:
    """Everything an adapter needs to publish one target. Carries no secret."""

    target_id: int
    post_id: int
    attempt_id: int
    account: AccountInfo
    content: PostContent
    idempotency_key: str  # stable for this attempt; a replay after an unknown outcome reuses it
    scheduled_at: datetime  # aware, UTC
    # Steps journaled by earlier attempts of this target (e.g. {"container_id": "..."}).
    checkpoints: Mapping[str, str] = field(default_factory=dict)
    # When set, the adapter may hand the post to the platform's own scheduler for this instant.
    native_schedule_at: datetime | None = None


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    url: str = ""
    natively_scheduled: bool = False  # handed to the platform's scheduler: goes out while we are off
    warnings: tuple[str, ...] = ()  # e.g. "the first comment could not be posted: ..."


class ReconcileStatus(StrEnum):
    PUBLISHED = "published"  # found on the platform
    NOT_PUBLISHED = "not_published"  # definitely not there: safe to publish again
    UNKNOWN = "unknown"  # cannot tell: the user reviews it


@dataclass(frozen=True)
class Reconciliation:
    status: ReconcileStatus
    external_id: str = ""
    url: str = ""
    detail: str = ""
    # False when the check itself could not reach the platform (transport error, timeout, 5xx, rate
    # limit): an UNKNOWN then says nothing about the post, and the engine checks again later.
    platform_answered: bool = True

    @classmethod
    def check_failed(cls, exc: PublishError) -> Reconciliation:
        """UNKNOWN because the check itself failed with `exc`; whether the platform answered is read
        from the error's kind and status (an answer such as 403 or 404 will not change by waiting)."""
        from app.core.models import ErrorKind

        unanswered = (exc.kind in (ErrorKind.TRANSIENT, ErrorKind.UNKNOWN, ErrorKind.RATE_LIMIT)
                      or (exc.http_status or 0) >= 500)
        return cls(ReconcileStatus.UNKNOWN, detail=exc.message, platform_answered=not unanswered)


class StepJournal(Protocol):
    """Durable checkpoints of a multi-step publish; `record` commits before it returns."""

    def record(self, step: str, value: str) -> None: ...


class Secrets(Protocol):
    """Per-account secret storage (implemented over the OS keyring in app.auth)."""

    def get(self, account_id: int) -> dict[str, str] | None: ...

    def put(self, account_id: int, values: dict[str, str]) -> None: ...

    def delete(self, account_id: int) -> None: ...


@dataclass
class AdapterContext:
    data_dir: Path
    secrets: Secrets
    clock: Callable[[], datetime]
    api_base: Mapping[str, str] = field(default_factory=dict)  # OUTPOST_API_BASE_<PLATFORM> overrides
    # The language new posts are written in (a BCP-47 tag, "" for unknown): the runtime reads the
    # "post_language" setting; an account's own "language" setting wins over it.
    post_language: Callable[[], str] = field(default=lambda: computer_language())


def computer_language() -> str:
    """The language of this computer's locale, as a BCP-47 tag ("" when it names none)."""
    import locale
    import os

    return system_language(os.environ, locale.getlocale()[0])


def stored_sign_in(context: AdapterContext, account: AccountInfo, *any_of: str) -> dict[str, str]:
    """The account's secrets from the keyring, holding at least one of `any_of` (default: an access token).

    No keyring, or nothing stored, is an AUTH error: the account is held and a reconnect asked.
    """
    from app.auth.secrets import NoKeyringAvailable  # imported late: auth sits beside platforms
    from app.core.errors import PublishError
    from app.core.models import ErrorKind

    try:
        values = context.secrets.get(account.id)
    except NoKeyringAvailable as exc:
        raise PublishError(ErrorKind.AUTH, str(exc), code="no_keyring") from None
    if not values or not any(values.get(key) for key in any_of or ("access_token",)):
        raise PublishError(ErrorKind.AUTH, f"Outpost has no sign-in for {account.label}. Reconnect the account.",
                           code="no_token")
    return values


@runtime_checkable
class Adapter(Protocol):
    platform: Platform

    def rules(self, account: AccountInfo) -> PlatformRules:
        """Limits and capabilities for this account (server-reported values applied)."""
        ...

    def validate(self, content: PostContent, account: AccountInfo) -> list[Problem]:
        """Compose-time problems: text counting, media rules, platform quirks. No network."""
        ...

    async def publish(self, job: PublishJob, journal: StepJournal) -> PublishResult:
        """Publish the post, then its first comment and thread parts. Raise PublishError on failure."""
        ...

    async def reconcile(self, job: PublishJob) -> Reconciliation:
        """After an unknown outcome: find the post, or replay an idempotency key, or say UNKNOWN."""
        ...

    async def refresh_credentials(self, account: AccountInfo) -> None:
        """Refresh tokens that are close to expiry; raise PublishError(AUTH) when impossible."""
        ...

    async def aclose(self) -> None: ...
