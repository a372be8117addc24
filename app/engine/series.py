"""Recurring series: their coming occurrences for the calendar, and changes to one, some or all.

A series stores one occurrence at a time (app.engine.recurring creates the next when the current
one goes out), the "head". The calendar shows the occurrences after it as `Repeat`s, computed from
the rule for the range on screen only. Moving, editing or cancelling one occurrence takes a Scope:
- THIS: the occurrence becomes a post of its own (stored, without the rule) that still holds its
  date in the series, so the rule passes over that date;
- FOLLOWING: the series ends the day before, and a new series starts there;
- ALL: the rule itself changes (the coming occurrences move, or the series is cancelled).
Each change returns a `SeriesChange`; `undo` puts the stored posts back as they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.core.errors import OutpostError
from app.core.models import Platform, PostStatus, TargetStatus
from app.core.recurrence import Recurrence, occurrences_between
from app.core.status import InvalidTransition, check_transition
from app.core.timeutil import as_utc, localize, zone
from app.engine.recurring import copy_occurrence, next_free_occurrence, occurrence_key
from app.engine.repeat import Repeat, repeat_id
from app.store import repo
from app.store.schema import Post, Target
from app.store.views import PostView

if TYPE_CHECKING:
    from app.engine.planner import Planner

PAST_GRACE = timedelta(seconds=60)
_CANCELLABLE = (TargetStatus.SCHEDULED, TargetStatus.DRAFT, TargetStatus.FAILED, TargetStatus.MISSED,
                TargetStatus.NEEDS_REVIEW)
_POST_COLUMNS = [c.key for c in Post.__table__.columns if c.key not in ("id", "created_at", "updated_at")]
_TARGET_COLUMNS = [c.key for c in Target.__table__.columns if c.key not in ("id", "post_id")]


class Scope(StrEnum):
    THIS = "this"
    FOLLOWING = "following"
    ALL = "all"


# --- the coming occurrences ----------------------------------------------------------------------


def repeats_between(planner: Planner, start: datetime, end: datetime, *,
                    statuses: Iterable[PostStatus] | None = None, account_ids: Iterable[int] | None = None,
                    platforms: Iterable[Platform] | None = None, text: str | None = None) -> list[Repeat]:
    """The occurrences in [start, end) that series will create, after their stored head, minus the
    dates a stored post of the series holds; filtered like Planner.posts_between."""
    if statuses is not None and PostStatus.SCHEDULED not in set(statuses):
        return []
    accounts = set(account_ids or ())
    kinds = set(platforms or ())
    needle = (text or "").casefold()
    with planner.db.read() as s:
        heads = _heads(s)
        if not heads:
            return []
        taken: dict[str, set[str]] = {}
        for series_id, key in s.execute(select(Post.series_id, Post.occurrence_key)
                                        .where(Post.series_id.in_(list(heads)))):
            if series_id and key:
                taken.setdefault(series_id, set()).add(key)
        views = {sid: repo.post_view(p) for sid, p in heads.items()}
        anchors = {sid: p.anchor_local for sid, p in heads.items()}
    out: list[Repeat] = []
    for series_id, head in views.items():
        if accounts and not accounts & {t.account_id for t in head.targets}:
            continue
        if kinds and not kinds & set(head.platforms):
            continue
        if needle and needle not in head.text.casefold():
            continue
        out.extend(_project(head, anchors[series_id], start, end, taken.get(series_id, set())))
    out.sort(key=lambda r: (r.scheduled_at, r.head_id))
    return out


def with_repeats(planner: Planner, start: datetime, end: datetime, posts: list[PostView],
                 **filters: Any) -> list[PostView]:
    """`posts` (a range already read) and the series' coming occurrences in it, by time."""
    repeats = repeats_between(planner, start, end, **filters)
    if not repeats:
        return posts
    merged: list[PostView] = [*posts, *repeats]
    merged.sort(key=lambda p: (p.scheduled_at or start, p.id < 0, abs(p.id)))
    return merged


def posts_with_repeats(planner: Planner, start: datetime, end: datetime, **filters: Any) -> list[PostView]:
    """What a calendar page shows: Planner.posts_between and the coming occurrences, by time."""
    return with_repeats(planner, start, end, planner.posts_between(start, end, **filters), **filters)


def _heads(s: Session) -> dict[str, Post]:
    """Per series, its stored occurrence that carries the rule and is still to publish."""
    rows = s.scalars(select(Post).where(Post.series_id.is_not(None), Post.status == PostStatus.SCHEDULED.value)
                     .options(selectinload(Post.targets).selectinload(Target.account))).all()
    heads: dict[str, Post] = {}
    for post in rows:
        if not post.recurrence or not post.anchor_local or post.scheduled_at is None or post.series_id is None:
            continue
        best = heads.get(post.series_id)
        if best is None or as_utc(post.scheduled_at) > as_utc(best.scheduled_at):  # type: ignore[arg-type]
            heads[post.series_id] = post
    return heads


def _project(head: PostView, anchor_local: str | None, start: datetime, end: datetime,
             taken: set[str]) -> list[Repeat]:
    assert head.scheduled_at is not None and head.series_id is not None and anchor_local
    rule = Recurrence.from_dict(head.recurrence)
    after = as_utc(head.scheduled_at) + timedelta(microseconds=1)
    lo = max(as_utc(start), after)
    if lo >= as_utc(end):
        return []
    targets = tuple(t for t in head.targets if t.status is not TargetStatus.CANCELLED)
    out = []
    anchor = datetime.fromisoformat(anchor_local)
    for at in occurrences_between(rule, anchor, zone(head.timezone), lo, end):
        key = occurrence_key(at, head.timezone)
        if key in taken:
            continue
        fields = {f: getattr(head, f) for f in PostView.__dataclass_fields__}
        fields.update(id=repeat_id(head.series_id, key), status=PostStatus.SCHEDULED, scheduled_at=at,
                      targets=tuple(replace(t, status=TargetStatus.SCHEDULED, scheduled_at=at, due_at=at,
                                            attempts=0, last_error="") for t in targets))
        out.append(Repeat(**fields, head_id=head.id, occurrence_key=key))
    return out


# --- changes ----------------------------------------------------------------------------------------


@dataclass
class _Saved:
    fields: dict[str, Any]
    targets: dict[int, dict[str, Any]]


@dataclass
class SeriesChange:
    """What a change did, enough to undo it; `open_id` is the post to open in the editor."""

    summary: str
    saved: dict[int, _Saved] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    open_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.saved or self.created)


class _Work:
    """One change in one write transaction: loads the series, remembers what it touches."""

    def __init__(self, planner: Planner, s: Session, view: PostView, summary: str) -> None:
        self.planner, self.s = planner, s
        self.change = SeriesChange(summary)
        self.now = planner.clock()
        if isinstance(view, Repeat):
            head = repo.get_post(s, view.head_id)
            if head is None or head.series_id != view.series_id or head.status != PostStatus.SCHEDULED.value:
                raise OutpostError("This series changed in the meantime; look at the calendar again.")
            self.stored: Post | None = None
            self.head: Post | None = head
            self.key = view.occurrence_key
            assert view.scheduled_at is not None
            self.at = as_utc(view.scheduled_at)
        else:
            post = repo.get_post(s, view.id)
            if post is None or not post.series_id or post.scheduled_at is None:
                raise OutpostError(f"There is no repeating post {view.id}.")
            self.stored = post
            self.key = post.occurrence_key or occurrence_key(post.scheduled_at, post.timezone)
            self.at = as_utc(post.scheduled_at)
            self.head = post if post.recurrence else _heads_of(s, post.series_id)
        self.series_id: str = (self.head or self.stored).series_id  # type: ignore[union-attr, assignment]
        self.taken = {k for k in s.scalars(select(Post.occurrence_key).where(Post.series_id == self.series_id)) if k}
        if self.key in self.taken and self.stored is None:
            raise OutpostError("This occurrence changed in the meantime; look at the calendar again.")

    @property
    def tz_name(self) -> str:
        return (self.stored or self.head).timezone  # type: ignore[union-attr]

    @property
    def is_head(self) -> bool:
        return self.stored is not None and self.stored is self.head

    def rule(self) -> Recurrence:
        assert self.head is not None
        return Recurrence.from_dict(self.head.recurrence)

    def wall(self, instant: datetime) -> datetime:
        return as_utc(instant).astimezone(zone(self.tz_name)).replace(tzinfo=None)

    def save(self, post: Post) -> None:
        if post.id in self.change.saved or post.id in self.change.created:
            return
        _refuse_busy(post)
        self.change.saved[post.id] = _Saved(
            {k: _copy(getattr(post, k)) for k in _POST_COLUMNS},
            {t.id: {k: _copy(getattr(t, k)) for k in _TARGET_COLUMNS} for t in post.targets})

    def create(self, at: datetime, *, key: str, recurrence: Recurrence | None, series_id: str | None = None,
               anchor: datetime | None = None, status: TargetStatus = TargetStatus.SCHEDULED) -> Post:
        assert self.head is not None
        post = copy_occurrence(self.head, at, key=key, recurrence=recurrence.to_dict() if recurrence else None,
                               series_id=series_id, anchor_local=anchor.isoformat() if anchor else None,
                               status=status)
        if post is None:
            raise OutpostError("This series has no account left to publish to.")
        self.s.add(post)
        self.s.flush()
        repo.refresh_post_status(post)
        self.change.created.append(post.id)
        self.taken.add(key)
        return post

    def continue_after(self, instant: datetime) -> None:
        """Store the series' next occurrence after `instant`, carrying the rule (the head steps aside)."""
        assert self.head is not None and self.head.anchor_local
        following = next_free_occurrence(self.rule(), datetime.fromisoformat(self.head.anchor_local),
                                         self.tz_name, max(instant, self.now), self.taken)
        if following is not None:
            self.create(following, key=occurrence_key(following, self.tz_name), recurrence=self.rule(),
                        anchor=datetime.fromisoformat(self.head.anchor_local))

    def reschedule(self, post: Post, at: datetime) -> None:
        if at < self.now - PAST_GRACE:
            raise OutpostError("That time is in the past; posts can only be scheduled ahead.")
        self.save(post)
        post.scheduled_at = at
        for t in post.targets:
            if t.status == TargetStatus.CANCELLED.value:
                continue
            try:
                check_transition(TargetStatus(t.status), TargetStatus.SCHEDULED)
            except InvalidTransition as exc:
                raise OutpostError(f"This post is {t.status.replace('_', ' ')}; it cannot be moved.") from exc
            t.status = TargetStatus.SCHEDULED.value
            t.scheduled_at, t.due_at, t.attempts, t.last_error = at, at, 0, ""
        repo.refresh_post_status(post)

    def cancel(self, post: Post) -> None:
        self.save(post)
        for t in post.targets:
            try:
                if TargetStatus(t.status) in _CANCELLABLE:
                    t.status = check_transition(TargetStatus(t.status), TargetStatus.CANCELLED).value
                    t.due_at = None
            except InvalidTransition:
                continue
        repo.refresh_post_status(post)

    def set_rule(self, post: Post, rule: Recurrence | None, anchor: datetime | None = None) -> None:
        self.save(post)
        post.recurrence = rule.to_dict() if rule is not None and rule.repeats else None
        if anchor is not None:
            post.anchor_local = anchor.isoformat()

    def later_stored(self) -> list[Post]:
        """The series' stored posts still to publish on or after this occurrence's date."""
        rows = self.s.scalars(select(Post).where(Post.series_id == self.series_id)
                              .options(selectinload(Post.targets))).all()
        return [p for p in rows if (p.occurrence_key or "") >= self.key and p.status in (
            PostStatus.SCHEDULED.value, PostStatus.DRAFT.value, PostStatus.FAILED.value, PostStatus.MISSED.value)]


def _heads_of(s: Session, series_id: str) -> Post | None:
    return _heads_in(s.scalars(select(Post).where(Post.series_id == series_id, Post.status ==
                                                  PostStatus.SCHEDULED.value).options(selectinload(Post.targets))))


def _heads_in(posts: Iterable[Post]) -> Post | None:
    live = [p for p in posts if p.recurrence and p.scheduled_at is not None]
    return max(live, key=lambda p: as_utc(p.scheduled_at), default=None)  # type: ignore[arg-type]


def _run(planner: Planner, view: PostView, summary: str, body: Any) -> SeriesChange:
    with planner.db.write() as s:
        work = _Work(planner, s, view, summary)
        body(work)
        s.flush()
        change = work.change
    if change.changed:
        planner.notify_changed("posts")
    return change


def move(planner: Planner, view: PostView, at: datetime, scope: Scope) -> SeriesChange:
    """Move the occurrence `view` to the instant `at`: alone, with the following ones, or all."""
    at = as_utc(at)

    def body(w: _Work) -> None:
        if w.stored is not None and not w.stored.recurrence:
            w.reschedule(w.stored, at)  # an occurrence already on its own: it keeps its date in the series
            return
        if scope is Scope.THIS:
            if w.stored is not None:
                w.continue_after(w.at)
                w.set_rule(w.stored, None)
                w.reschedule(w.stored, at)
            else:
                w.reschedule(w.create(w.at, key=w.key, recurrence=None), at)
            return
        delta = w.wall(at) - w.wall(w.at)
        rule = w.rule().shifted((w.wall(at).date() - w.wall(w.at).date()).days)
        if scope is Scope.FOLLOWING and w.stored is None:
            assert w.head is not None
            w.set_rule(w.head, w.rule().ending_before(w.wall(w.at).date()))
            if at < w.now - PAST_GRACE:
                raise OutpostError("That time is in the past; posts can only be scheduled ahead.")
            w.create(at, key=occurrence_key(at, w.tz_name), recurrence=rule, series_id=uuid.uuid4().hex,
                     anchor=w.wall(at))
            return
        # ALL (or FOLLOWING from the stored occurrence, which is the same): the rule moves.
        head = w.head
        assert head is not None and head.scheduled_at is not None
        wall = w.wall(head.scheduled_at) + delta
        first = localize(wall, zone(w.tz_name))
        w.taken.discard(head.occurrence_key or "")
        if first <= w.now or occurrence_key(first, w.tz_name) in w.taken:
            later = next_free_occurrence(rule, wall, w.tz_name, max(first, w.now), w.taken)
            if later is None:
                raise OutpostError("The series has no occurrence left after that move; check its end date.")
            first = later
        w.set_rule(head, rule, anchor=wall)
        w.reschedule(head, first)
        head.occurrence_key = occurrence_key(first, w.tz_name)

    return _run(planner, view, "Move repeating post", body)


def cancel(planner: Planner, view: PostView, scope: Scope) -> SeriesChange:
    """Cancel the occurrence `view`: alone, with the following ones, or the whole series."""

    def body(w: _Work) -> None:
        if w.stored is not None and not w.stored.recurrence:
            w.cancel(w.stored)
            return
        if scope is Scope.THIS:
            if w.stored is not None:
                w.continue_after(w.at)
                w.set_rule(w.stored, None)
                w.cancel(w.stored)
            else:
                w.create(w.at, key=w.key, recurrence=None, status=TargetStatus.CANCELLED)
            return
        if scope is Scope.FOLLOWING and w.stored is None:
            assert w.head is not None
            w.set_rule(w.head, w.rule().ending_before(w.wall(w.at).date()))
            for post in w.later_stored():
                w.cancel(post)
            return
        rows = w.s.scalars(select(Post).where(Post.series_id == w.series_id).options(selectinload(Post.targets)))
        for post in rows:
            if post.status in (PostStatus.SCHEDULED.value, PostStatus.DRAFT.value):
                w.cancel(post)

    return _run(planner, view, "Cancel repeating post", body)


def prepare_edit(planner: Planner, view: PostView, scope: Scope) -> SeriesChange:
    """Make the post to edit for `scope` (`open_id`): the occurrence on its own, a new series from
    it, or the series' stored occurrence whose rule all the coming ones follow."""

    def body(w: _Work) -> None:
        if w.stored is not None and not w.stored.recurrence:
            w.change.open_id = w.stored.id
            return
        assert w.head is not None
        if scope is Scope.THIS:
            if w.stored is not None:
                w.continue_after(w.at)
                w.set_rule(w.stored, None)
                w.change.open_id = w.stored.id
            else:
                w.change.open_id = w.create(w.at, key=w.key, recurrence=None).id
            return
        if scope is Scope.FOLLOWING and w.stored is None:
            rule = w.rule()
            w.set_rule(w.head, rule.ending_before(w.wall(w.at).date()))
            w.change.open_id = w.create(w.at, key=w.key, recurrence=rule, series_id=uuid.uuid4().hex,
                                        anchor=w.wall(w.at)).id
            return
        w.change.open_id = w.head.id

    return _run(planner, view, "Edit repeating post", body)


def undo(planner: Planner, change: SeriesChange) -> None:
    """Put the stored posts back as they were before `change`; refused once one is publishing."""
    with planner.db.write() as s:
        for post_id in change.created:
            post = repo.get_post(s, post_id)
            if post is not None:
                _refuse_busy(post, "It has started publishing, so this cannot be undone.")
                s.delete(post)
        s.flush()
        for post_id, saved in change.saved.items():
            post = repo.get_post(s, post_id)
            if post is None:
                continue
            if any(t.status in (TargetStatus.PUBLISHING.value, TargetStatus.PUBLISHED.value) for t in post.targets
                   if saved.targets.get(t.id, {}).get("status") != t.status):
                raise OutpostError("It has started publishing, so this cannot be undone.")
            for k, v in saved.fields.items():
                setattr(post, k, _copy(v))
            for t in post.targets:
                for k, v in saved.targets.get(t.id, {}).items():
                    setattr(t, k, _copy(v))
            repo.refresh_post_status(post)
    planner.notify_changed("posts")


def _refuse_busy(post: Post, message: str = "") -> None:
    if any(t.status == TargetStatus.PUBLISHING.value for t in post.targets):
        raise OutpostError(message or "This post is being published right now; it cannot be changed.")
    if any(t.natively_scheduled for t in post.targets):
        raise OutpostError(message or "This occurrence waits in the platform's own scheduler: take it back first.")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value
