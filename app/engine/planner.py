"""Everything a person does to posts and accounts, for the window, the CLI and the importer.

Methods are synchronous (short SQLite transactions) and raise OutpostError with one line
that says what to fix. Every change calls `on_change`, which re-arms the publisher at once.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import OutpostError
from app.core.models import (
    AccountStatus,
    MediaItem,
    MediaKind,
    Platform,
    PostContent,
    PostSpec,
    PostStatus,
    Problem,
    Severity,
    TargetStatus,
)
from app.core.recurrence import Recurrence, series_start
from app.core.status import InvalidTransition, check_transition
from app.core.timeutil import as_utc, local_zone_name, zone
from app.engine.recurring import occurrence_key
from app.platforms.base import Adapter
from app.store import repo
from app.store.db import Database
from app.store.files import FileRefused, read_head
from app.store.listing import (
    Checking,
    HeldAccount,
    PostFilter,
    checking,
    find_posts,
    held_accounts,
    posts_per_target_status,
)
from app.store.schema import Account, Post, Target
from app.store.views import AccountView, AttemptView, EventView, PostView

PAST_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class PostPage:
    """One page of a listing and how many posts the filter selects in all."""

    posts: list[PostView]
    total: int


@dataclass(frozen=True)
class PostSnapshot:
    """A deleted post, enough to put it back (undo of delete)."""

    fields: dict[str, Any]
    targets: tuple[dict[str, Any], ...] = field(default=())


class Planner:
    def __init__(
        self,
        db: Database,
        adapter_for: Callable[[Platform], Adapter],
        clock: Callable[[], datetime],
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.adapter_for = adapter_for
        self.clock = clock
        self._on_change = on_change or (lambda _kind: None)

    def _changed(self, kind: str) -> None:
        self._on_change(kind)

    def notify_changed(self, kind: str = "posts") -> None:
        """Tell the publisher and the window that posts changed behind the planner's back
        (an import undone in one transaction, for example)."""
        self._changed(kind)

    # --- accounts -------------------------------------------------------------------------------

    def accounts(self) -> list[AccountView]:
        with self.db.read() as s:
            return [repo.account_view(a) for a in repo.live_accounts(s)]

    def account(self, account_id: int) -> AccountView:
        with self.db.read() as s:
            a = s.get(Account, account_id)
            if a is None or a.removed_at is not None:
                raise OutpostError(f"There is no account {account_id}; `outpost accounts list` shows them.")
            return repo.account_view(a)

    def find_account(self, ref: str) -> AccountView:
        """An account by id, handle (with or without @) or display name."""
        wanted = ref.strip().lstrip("@").lower()
        matches = []
        for a in self.accounts():
            if str(a.id) == wanted or a.handle.lstrip("@").lower() == wanted or a.display_name.lower() == wanted:
                matches.append(a)
        if not matches:
            shown = ref if len(ref) <= 60 else ref[:59] + "…"
            raise OutpostError(f"No account matches {shown!r}; `outpost accounts list` shows the accounts.")
        if len(matches) > 1:
            ids = ", ".join(str(a.id) for a in matches)
            raise OutpostError(f"{ref[:60]!r} matches several accounts ({ids}); use the account id.")
        return matches[0]

    def default_account_id(self) -> int | None:
        accounts = self.accounts()
        for a in accounts:
            if a.is_default:
                return a.id
        return accounts[0].id if accounts else None

    def add_account(
        self,
        platform: Platform,
        handle: str,
        *,
        display_name: str = "",
        timezone: str | None = None,
        server: str = "",
        settings: dict[str, object] | None = None,
        make_default: bool = False,
    ) -> AccountView:
        tz = timezone or local_zone_name()
        try:
            zone(tz)
        except ValueError as exc:
            raise OutpostError(str(exc)) from None
        if not handle.strip():
            raise OutpostError("An account needs a handle or name.")
        with self.db.write() as s:
            existing = s.scalars(select(Account).where(
                Account.platform == platform.value, Account.handle == handle, Account.server == server,
                Account.removed_at.is_(None))).first()
            if existing is not None:
                existing.display_name = display_name or existing.display_name
                existing.settings = {**(existing.settings or {}), **(settings or {})}
                existing.status = AccountStatus.ACTIVE.value
                existing.status_reason = ""
                account = existing
            else:
                first = not repo.live_accounts(s)
                account = Account(platform=platform.value, handle=handle, display_name=display_name, timezone=tz,
                                  server=server, settings=dict(settings or {}), is_default=first or make_default)
                s.add(account)
            if make_default:
                for other in repo.live_accounts(s):
                    other.is_default = other is account
            s.flush()
            repo.add_event(s, f"Connected {account.display_name or account.handle} ({platform.label}).",
                           kind="account", platform=platform.value)
            view = repo.account_view(account)
        self._changed("accounts")
        self._changed("posts")
        return view

    def set_account_status(self, account_id: int, status: AccountStatus, reason: str = "") -> None:
        with self.db.write() as s:
            a = s.get(Account, account_id)
            if a is None:
                raise OutpostError(f"There is no account {account_id}.")
            a.status = status.value
            a.status_reason = reason
        self._changed("accounts")
        self._changed("posts")

    def update_account_settings(self, account_id: int, settings: dict[str, object]) -> None:
        with self.db.write() as s:
            a = s.get(Account, account_id)
            if a is None:
                raise OutpostError(f"There is no account {account_id}.")
            a.settings = {**(a.settings or {}), **settings}
        self._changed("accounts")

    def set_default_account(self, account_id: int) -> None:
        with self.db.write() as s:
            accounts = repo.live_accounts(s)
            if account_id not in {a.id for a in accounts}:
                raise OutpostError(f"There is no account {account_id}.")
            for a in accounts:
                a.is_default = a.id == account_id
        self._changed("accounts")

    def remove_account(self, account_id: int) -> int:
        """Hide the account and cancel what it had not published; returns how many were cancelled."""
        now = self.clock()
        with self.db.write() as s:
            a = s.get(Account, account_id)
            if a is None or a.removed_at is not None:
                raise OutpostError(f"There is no account {account_id}.")
            targets = s.scalars(select(Target).where(
                Target.account_id == account_id,
                Target.status.in_([TargetStatus.SCHEDULED.value, TargetStatus.DRAFT.value,
                                   TargetStatus.MISSED.value, TargetStatus.FAILED.value]))).all()
            for t in targets:
                t.status = TargetStatus.CANCELLED.value
                t.due_at = None
                repo.refresh_post_status(t.post)
            a.removed_at = now
            was_default = a.is_default
            a.is_default = False
            if was_default:
                rest = [x for x in repo.live_accounts(s) if x.id != account_id]
                if rest:
                    rest[0].is_default = True
            repo.add_event(s, f"Removed {a.display_name or a.handle} ({Platform(a.platform).label}); "
                           f"{len(targets)} unpublished post(s) cancelled.", kind="account", platform=a.platform)
        self._changed("accounts")
        self._changed("posts")
        return len(targets)

    # --- compose -------------------------------------------------------------------------------

    def validate(self, spec: PostSpec, *, accounts: dict[int, AccountView] | None = None) -> list[Problem]:
        """Every problem with `spec`, per account (compose time; no network)."""
        problems: list[Problem] = []
        media, media_problems = _inspect_media(spec.media)
        problems.extend(media_problems)
        if not spec.account_ids and not spec.draft:
            problems.append(Problem("account", "Choose at least one account."))
        now = self.clock()
        if spec.scheduled_at is not None and not spec.draft:
            if spec.scheduled_at.tzinfo is None:
                raise ValueError("PostSpec.scheduled_at must be aware")
            if spec.scheduled_at < now - PAST_GRACE:
                local = spec.scheduled_at.astimezone(zone(spec.timezone))
                problems.append(Problem("scheduled_at", f"{local:%Y-%m-%d %H:%M} {spec.timezone} is in the past; "
                                        "pick a later time or publish now."))
        try:
            zone(spec.timezone)
        except ValueError as exc:
            problems.append(Problem("scheduled_at", str(exc)))
        if spec.recurrence:
            try:
                Recurrence.from_dict(spec.recurrence)
            except (ValueError, KeyError) as exc:
                problems.append(Problem("recurrence", f"The repeat rule is not valid: {exc}"))
        if accounts is None:
            accounts = {a.id: a for a in self.accounts()}
        for account_id in spec.account_ids:
            account = accounts.get(account_id)
            if account is None:
                problems.append(Problem("account", f"There is no account {account_id}."))
                continue
            content = PostContent(text=spec.overrides.get(account_id, spec.text), media=media,
                                  first_comment=spec.first_comment, thread=spec.thread, title=spec.title)
            info = _info(account)
            try:
                adapter = self.adapter_for(account.platform)
            except ValueError as exc:  # a platform this build cannot publish to
                problems.append(Problem("account", str(exc), account_id=account_id, platform=account.platform))
                continue
            for p in adapter.validate(content, info):
                problems.append(replace(p, account_id=account_id, platform=account.platform))
        return problems

    def create_post(self, spec: PostSpec, *, import_batch_id: int | None = None) -> int:
        """Create a post (scheduled, or a draft); refuses invalid input and writes nothing then."""
        spec = self._checked(spec)
        with self.db.write() as s:
            post = self._new_post(s, spec, import_batch_id)
            post_id = post.id
        self._changed("posts")
        return post_id

    def create_posts(self, specs: Iterable[PostSpec], *, import_batch_id: int | None = None,
                     validate: bool = True) -> list[int]:
        """Create several posts in one transaction: all or none."""
        accounts = {a.id: a for a in self.accounts()}
        checked = [self._checked(sp, accounts) if validate else sp for sp in specs]
        with self.db.write() as s:
            posts = [self._new_post(s, sp, import_batch_id, flush=False) for sp in checked]
            s.flush()
            ids = [p.id for p in posts]
        self._changed("posts")
        return ids

    def _checked(self, spec: PostSpec, accounts: dict[int, AccountView] | None = None) -> PostSpec:
        problems = self.validate(spec, accounts=accounts)
        errors = [p for p in problems if p.severity is Severity.ERROR]
        if errors and not spec.draft:
            raise OutpostError(_describe(errors[0], self))
        media, _ = _inspect_media(spec.media)
        spec = replace(spec, media=media)
        rule = Recurrence.from_dict(spec.recurrence)
        if rule.repeats and spec.scheduled_at is not None:
            start = series_start(rule, spec.scheduled_at, zone(spec.timezone))
            if start is None:
                raise OutpostError("The repeat rule has no occurrence before its end date; check --until.")
            spec = replace(spec, scheduled_at=start)
        return spec

    def _new_post(self, s: Session, spec: PostSpec, import_batch_id: int | None, *, flush: bool = True) -> Post:
        dated = spec.scheduled_at is not None
        status = TargetStatus.DRAFT if spec.draft or not dated else TargetStatus.SCHEDULED
        rule = Recurrence.from_dict(spec.recurrence)
        post = Post(
            text=spec.text, title=spec.title, media=[m.to_dict() for m in spec.media],
            first_comment=spec.first_comment, thread=list(spec.thread),
            overrides={str(k): v for k, v in spec.overrides.items()}, extra=dict(spec.extra),
            scheduled_at=spec.scheduled_at, timezone=spec.timezone,
            recurrence=rule.to_dict() if rule.repeats else None, import_batch_id=import_batch_id,
        )
        if rule.repeats and spec.scheduled_at is not None:
            post.series_id = uuid.uuid4().hex
            post.anchor_local = as_utc(spec.scheduled_at).astimezone(zone(spec.timezone)).replace(
                tzinfo=None).isoformat()
            post.occurrence_key = occurrence_key(spec.scheduled_at, spec.timezone)
        for account_id in dict.fromkeys(spec.account_ids):
            post.targets.append(Target(account_id=account_id, status=status.value, scheduled_at=spec.scheduled_at,
                                       due_at=spec.scheduled_at if status is TargetStatus.SCHEDULED else None))
        s.add(post)
        repo.refresh_post_status(post)
        if flush:
            s.flush()
        return post

    def update_post(self, post_id: int, spec: PostSpec) -> None:
        """Replace a post's content, accounts and time. Refused once anything is publishing or published."""
        spec = self._checked(spec)
        with self.db.write() as s:
            post = self._editable_post(s, post_id)
            post.text, post.title, post.first_comment = spec.text, spec.title, spec.first_comment
            post.media = [m.to_dict() for m in spec.media]
            post.thread = list(spec.thread)
            post.overrides = {str(k): v for k, v in spec.overrides.items()}
            post.extra = dict(spec.extra)
            post.timezone = spec.timezone
            post.scheduled_at = spec.scheduled_at
            rule = Recurrence.from_dict(spec.recurrence)
            post.recurrence = rule.to_dict() if rule.repeats else None
            if rule.repeats and spec.scheduled_at is not None:
                post.series_id = post.series_id or uuid.uuid4().hex
                post.anchor_local = as_utc(spec.scheduled_at).astimezone(zone(spec.timezone)).replace(
                    tzinfo=None).isoformat()
                post.occurrence_key = occurrence_key(spec.scheduled_at, spec.timezone)
            status = TargetStatus.DRAFT if spec.draft or spec.scheduled_at is None else TargetStatus.SCHEDULED
            wanted = list(dict.fromkeys(spec.account_ids))
            for t in list(post.targets):
                if t.account_id not in wanted:
                    post.targets.remove(t)
                    s.delete(t)
            have = {t.account_id for t in post.targets}
            for account_id in wanted:
                if account_id not in have:
                    post.targets.append(Target(account_id=account_id, status=TargetStatus.DRAFT.value))
            for t in post.targets:
                t.status = status.value
                t.scheduled_at = spec.scheduled_at
                t.due_at = spec.scheduled_at if status is TargetStatus.SCHEDULED else None
                t.attempts = 0
                t.last_error = ""
            s.flush()
            for t in post.targets:
                s.refresh(t, ["account"])
            repo.refresh_post_status(post)
        self._changed("posts")

    def _editable_post(self, s: Session, post_id: int) -> Post:
        post = repo.get_post(s, post_id)
        if post is None:
            raise OutpostError(f"There is no post {post_id}.")
        _refuse_if_handed_off(post.targets)
        busy = [t for t in post.targets if t.status in (TargetStatus.PUBLISHING.value, TargetStatus.PUBLISHED.value)]
        if busy:
            raise OutpostError(f"Post {post_id} is already {busy[0].status}; duplicate it to post it again.")
        return post

    # --- reading ---------------------------------------------------------------------------------

    def post(self, post_id: int) -> PostView:
        with self.db.read() as s:
            post = repo.get_post(s, post_id)
            if post is None:
                raise OutpostError(f"There is no post {post_id}; `outpost post list` shows them.")
            return repo.post_view(post)

    def posts_between(self, start: datetime, end: datetime, **filters: Any) -> list[PostView]:
        with self.db.read() as s:
            return [repo.post_view(p) for p in repo.posts_between(s, start, end, **filters)]

    def posts(self, status: PostStatus | None = None, limit: int | None = None) -> list[PostView]:
        """Every post (or every post with `status`), soonest first, undated last; `limit` cuts the list
        where the caller asks, never silently (post_page also says how many were left out)."""
        return self.post_page(PostFilter(statuses=(status,) if status else ()), limit=limit).posts

    def post_page(self, wanted: PostFilter | None = None, *, limit: int | None = None, offset: int = 0) -> PostPage:
        """The posts `wanted` selects, from `offset`, at most `limit` of them, with the total."""
        with self.db.read() as s:
            try:
                rows, total = find_posts(s, wanted or PostFilter(), limit=limit, offset=offset)
            except ValueError as exc:
                raise OutpostError(str(exc)) from None
            return PostPage([repo.post_view(p) for p in rows], total)

    def held(self) -> list[HeldAccount]:
        """Accounts whose scheduled posts wait until the person reconnects or re-enables them."""
        with self.db.read() as s:
            return held_accounts(s)

    def checking(self) -> Checking:
        """Posts whose lost answer Outpost checks again later, and when the next check is."""
        with self.db.read() as s:
            return checking(s)

    def posts_per_target_status(self) -> dict[TargetStatus, int]:
        """How many posts have at least one account in each status (partial failures included)."""
        with self.db.read() as s:
            return posts_per_target_status(s)

    def drafts(self) -> list[PostView]:
        with self.db.read() as s:
            return [repo.post_view(p) for p in repo.undated_drafts(s)]

    def missed(self) -> list[PostView]:
        with self.db.read() as s:
            return [repo.post_view(p) for p in repo.posts_with_status(s, PostStatus.MISSED)]

    def counts(self) -> dict[PostStatus, int]:
        with self.db.read() as s:
            return repo.status_counts(s)

    def attempts(self, post_id: int) -> list[AttemptView]:
        with self.db.read() as s:
            return repo.attempts_for_post(s, post_id)

    def events(self, limit: int = 200) -> list[EventView]:
        with self.db.read() as s:
            return repo.recent_events(s, limit)

    # --- actions ---------------------------------------------------------------------------------

    def reschedule(self, moves: dict[int, datetime | None]) -> dict[int, datetime | None]:
        """Move posts to new instants (None = back to an undated draft). All or nothing.

        Returns each post's previous instant, for undo. The past and published posts are refused.
        """
        now = self.clock()
        previous: dict[int, datetime | None] = {}
        with self.db.write() as s:
            for post_id, when in moves.items():
                post = repo.get_post(s, post_id)
                if post is None:
                    raise OutpostError(f"There is no post {post_id}.")
                live = [t for t in post.targets if t.status != TargetStatus.CANCELLED.value]
                if any(t.status == TargetStatus.PUBLISHED.value for t in live):
                    raise OutpostError("A published post cannot be moved; duplicate it as a new post instead.")
                if any(t.status == TargetStatus.PUBLISHING.value for t in live):
                    raise OutpostError("This post is being published right now; it cannot be moved.")
                _refuse_if_handed_off(live)
                if any(t.status == TargetStatus.NEEDS_REVIEW.value for t in live):
                    raise OutpostError("Check this post on the platform first: mark it as published or retry it.")
                if when is not None and when < now - PAST_GRACE:
                    raise OutpostError("That time is in the past; posts can only be scheduled ahead.")
                previous[post_id] = post.scheduled_at
                post.scheduled_at = when
                for t in live:
                    new = TargetStatus.SCHEDULED if when is not None else TargetStatus.DRAFT
                    check_transition(TargetStatus(t.status), new)
                    t.status = new.value
                    t.scheduled_at = when
                    t.due_at = when if when is not None else None
                    t.attempts = 0
                    t.last_error = ""
                if post.series_id and when is not None:
                    post.occurrence_key = occurrence_key(when, post.timezone)
                repo.refresh_post_status(post)
        self._changed("posts")
        return previous

    def _set_targets(self, post_id: int, to: TargetStatus, *, from_: Iterable[TargetStatus],
                     due: datetime | None = None, verb: str) -> int:
        allowed = {f.value for f in from_}
        with self.db.write() as s:
            post = repo.get_post(s, post_id)
            if post is None:
                raise OutpostError(f"There is no post {post_id}.")
            changed = 0
            if to is not TargetStatus.SCHEDULED:
                _refuse_if_handed_off([t for t in post.targets if t.status in allowed])
            for t in post.targets:
                if t.status not in allowed:
                    continue
                try:
                    check_transition(TargetStatus(t.status), to)
                except InvalidTransition:
                    continue
                t.status = to.value
                t.due_at = due
                if due is not None:
                    t.attempts = 0
                    t.last_error = ""
                if to is TargetStatus.SCHEDULED and due is not None:
                    t.scheduled_at = due
                changed += 1
            if not changed:
                raise OutpostError(f"Post {post_id} is {post.status.replace('_', ' ')}; there is nothing to {verb}.")
            if to is TargetStatus.SCHEDULED and due is not None:
                post.scheduled_at = due
            repo.refresh_post_status(post)
            repo.add_event(s, f"Post #{post_id}: {verb} ({changed} account(s)).", kind=verb.replace(" ", "_"),
                           post_id=post_id)
        self._changed("posts")
        return changed

    def cancel(self, post_id: int) -> int:
        return self._set_targets(post_id, TargetStatus.CANCELLED, verb="cancel",
                                 from_=(TargetStatus.SCHEDULED, TargetStatus.DRAFT, TargetStatus.FAILED,
                                        TargetStatus.MISSED, TargetStatus.NEEDS_REVIEW))

    def discard(self, post_id: int) -> int:
        return self._set_targets(post_id, TargetStatus.CANCELLED, verb="discard", from_=(TargetStatus.MISSED,))

    def retry(self, post_id: int) -> int:
        return self._set_targets(post_id, TargetStatus.SCHEDULED, due=self.clock(), verb="retry",
                                 from_=(TargetStatus.FAILED, TargetStatus.NEEDS_REVIEW, TargetStatus.MISSED))

    def publish_now(self, post_id: int) -> int:
        return self._set_targets(post_id, TargetStatus.SCHEDULED, due=self.clock(), verb="publish now",
                                 from_=(TargetStatus.SCHEDULED, TargetStatus.DRAFT, TargetStatus.FAILED,
                                        TargetStatus.MISSED, TargetStatus.NEEDS_REVIEW, TargetStatus.CANCELLED))

    def take_back(self, post_id: int) -> int:
        """The person deleted the handed-off post on the platform: here it becomes a draft again,
        at the same date, to move, schedule or cancel. Nothing is sent; returns the targets taken back.

        Without this a handed-off post could be neither moved nor cancelled, and at its time it
        would be recorded as published by the platform even though it had been deleted there.
        """
        with self.db.write() as s:
            post = repo.get_post(s, post_id)
            if post is None:
                raise OutpostError(f"There is no post {post_id}.")
            handed = [t for t in post.targets if t.natively_scheduled and t.status == TargetStatus.SCHEDULED.value]
            if not handed:
                raise OutpostError(f"Post {post_id} is not waiting in a platform's scheduler; there is nothing to "
                                   "take back.")
            names = ", ".join(dict.fromkeys(Platform(t.account.platform).label for t in handed))
            for t in handed:
                check_transition(TargetStatus.SCHEDULED, TargetStatus.DRAFT)
                t.status = TargetStatus.DRAFT.value
                t.natively_scheduled = False
                t.external_id = ""
                t.external_url = ""
                t.due_at = None
                t.last_error = ""
                t.last_error_kind = ""
            repo.refresh_post_status(post)
            repo.add_event(s, f"Post #{post_id}: taken back from {names}'s scheduler after you deleted it there; "
                              "it is a draft again.", kind="taken_back", post_id=post_id)
        self._changed("posts")
        return len(handed)

    def unschedule(self, post_id: int) -> None:
        self.reschedule({post_id: None})

    def mark_published(self, target_id: int, url: str = "") -> None:
        """The user checked the platform: this target is published (closes a needs-review)."""
        with self.db.write() as s:
            t = s.get(Target, target_id)
            if t is None:
                raise OutpostError(f"There is no target {target_id}.")
            check_transition(TargetStatus(t.status), TargetStatus.PUBLISHED)
            t.status = TargetStatus.PUBLISHED.value
            t.external_url = url or t.external_url
            t.last_error = ""
            t.due_at = None
            repo.refresh_post_status(t.post)
            repo.add_event(s, f"Post #{t.post_id} marked as published by you.", kind="marked_published",
                           post_id=t.post_id, target_id=t.id)
        self._changed("posts")

    def duplicate(self, post_id: int, at: datetime | None = None) -> int:
        view = self.post(post_id)
        spec = PostSpec(
            text=view.text, account_ids=tuple(t.account_id for t in view.targets
                                              if t.status is not TargetStatus.CANCELLED),
            scheduled_at=at, timezone=view.timezone, media=view.media, first_comment=view.first_comment,
            thread=view.thread, overrides=dict(view.overrides), recurrence=None, draft=at is None,
            title=view.title, extra=dict(view.extra),
        )
        return self.create_post(spec)

    def delete(self, post_id: int) -> PostSnapshot:
        with self.db.write() as s:
            post = repo.get_post(s, post_id)
            if post is None:
                raise OutpostError(f"There is no post {post_id}.")
            if any(t.status == TargetStatus.PUBLISHING.value for t in post.targets):
                raise OutpostError("This post is being published right now; delete it when that is done.")
            _refuse_if_handed_off(post.targets)  # deleting here would leave it to go out there, unrecorded
            columns = [c.key for c in Post.__table__.columns if c.key not in ("id",)]
            snapshot = PostSnapshot(
                fields={k: getattr(post, k) for k in columns},
                targets=tuple({c.key: getattr(t, c.key) for c in Target.__table__.columns
                               if c.key not in ("id", "post_id")} for t in post.targets),
            )
            s.delete(post)
        self._changed("posts")
        return snapshot

    def restore(self, snapshot: PostSnapshot) -> int:
        with self.db.write() as s:
            post = Post(**snapshot.fields)
            for data in snapshot.targets:
                post.targets.append(Target(**data))
            s.add(post)
            s.flush()
            post_id = post.id
        self._changed("posts")
        return post_id


def _info(account: AccountView) -> Any:
    from app.core.models import AccountInfo

    return AccountInfo(id=account.id, platform=account.platform, handle=account.handle,
                       display_name=account.display_name, timezone=account.timezone, server=account.server,
                       settings=dict(account.settings))


def _describe(problem: Problem, planner: Planner) -> str:
    if problem.account_id is not None:
        try:
            label = planner.account(problem.account_id).label
        except OutpostError:
            label = f"account {problem.account_id}"
        return f"{label}: {problem.message}"
    return problem.message


_VIDEO_EXT = {".mp4", ".mov", ".m4v", ".webm"}
_KNOWN_TYPES = "JPEG, PNG, GIF, WebP, MP4 or MOV"


def _inspect_media(media: Iterable[MediaItem]) -> tuple[tuple[MediaItem, ...], list[Problem]]:
    """Fill in type and size of local files from their content; report files Outpost cannot post.

    Files are opened without blocking and only when regular (a FIFO, /dev/zero or /proc/self/mem
    is refused, never read), and only their first bytes are read. The content decides the type,
    not the name: an HTML page called photo.png is refused. A file declared a video whose container
    Outpost does not recognise is left to the platform to judge."""
    from app.importer.media import sniff_mime

    out: list[MediaItem] = []
    problems: list[Problem] = []
    for i, item in enumerate(media, start=1):
        if item.is_url:
            mime = item.mime_type or (mimetypes.guess_type(item.source.split("?")[0])[0] or "")
            out.append(replace(item, mime_type=mime))
            blocked = private_media_address(item.source)
            if blocked:
                problems.append(Problem("media", f"Attachment {i}: {blocked}"))
            continue
        path = Path(item.source).expanduser()
        try:
            head, size = read_head(path, 64)
        except FileNotFoundError:
            problems.append(Problem("media", f"Attachment {i}: no file at {item.source}; check the path."))
            out.append(item)
            continue
        except FileRefused as exc:
            problems.append(Problem("media", f"Attachment {i}: {exc}"))
            out.append(item)
            continue
        except OSError as exc:
            problems.append(Problem("media", f"Attachment {i}: {path.name} cannot be read "
                                    f"({exc.strerror or type(exc).__name__}); check the file and its permissions."))
            out.append(item)
            continue
        if size == 0 or not head:
            problems.append(Problem("media", f"Attachment {i}: {path.name} is empty; choose the picture or video "
                                    "itself."))
            out.append(item)
            continue
        mime = sniff_mime(head)
        if mime:
            kind = MediaKind.GIF if mime == "image/gif" else MediaKind.VIDEO if mime.startswith("video/") \
                else MediaKind.IMAGE
        elif item.kind is MediaKind.VIDEO or item.mime_type.startswith("video/"):
            mime = item.mime_type or (mimetypes.guess_type(path.name)[0] or "video/mp4")
            kind = MediaKind.VIDEO
        else:
            problems.append(Problem("media", f"Attachment {i}: {path.name} is not an image or video Outpost can post "
                                    f"({_KNOWN_TYPES}), whatever its name says."))
            out.append(item)
            continue
        out.append(replace(item, source=str(path.resolve()), mime_type=mime, size_bytes=size, kind=kind))
    return tuple(out), problems


def private_media_address(url: str) -> str | None:
    """Why a media address on this computer or a private network is refused, or None.

    Only what the address itself says (no DNS at compose time); the download checks again after
    resolving. OUTPOST_ALLOW_PRIVATE_MEDIA=1 allows them (a media server on your own network)."""
    from app.platforms.http import allow_private_media, blocked_address

    if allow_private_media():
        return None
    return blocked_address(url)


def _refuse_if_handed_off(targets: Iterable[Target]) -> None:
    for t in targets:
        if t.natively_scheduled and t.status == TargetStatus.SCHEDULED.value:
            platform = Platform(t.account.platform).label
            raise OutpostError(f"This post is already with {platform}'s own scheduler. Delete it on {platform}, "
                               "then use “Take back” in its details to move or cancel it here.")
