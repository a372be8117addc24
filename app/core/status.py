"""The status machine for targets, and the roll-up that gives a post its status."""

from __future__ import annotations

from collections.abc import Iterable

from app.core.models import PostStatus, TargetStatus

T = TargetStatus

ALLOWED: dict[TargetStatus, frozenset[TargetStatus]] = {
    T.DRAFT: frozenset({T.SCHEDULED, T.CANCELLED, T.DRAFT}),
    T.SCHEDULED: frozenset({T.PUBLISHING, T.DRAFT, T.CANCELLED, T.MISSED, T.SCHEDULED}),
    # PUBLISHING -> SCHEDULED: a released claim, a retry after a transient error, a held auth failure
    T.PUBLISHING: frozenset({T.PUBLISHED, T.FAILED, T.NEEDS_REVIEW, T.SCHEDULED}),
    T.FAILED: frozenset({T.SCHEDULED, T.CANCELLED, T.DRAFT}),
    T.NEEDS_REVIEW: frozenset({T.PUBLISHED, T.SCHEDULED, T.FAILED, T.CANCELLED}),
    T.MISSED: frozenset({T.SCHEDULED, T.CANCELLED, T.DRAFT}),
    T.PUBLISHED: frozenset(),
    T.CANCELLED: frozenset({T.DRAFT, T.SCHEDULED}),  # undo of a cancel
}

TERMINAL = frozenset({T.PUBLISHED, T.CANCELLED})
NEEDS_ATTENTION = frozenset({T.FAILED, T.NEEDS_REVIEW, T.MISSED})
EDITABLE = frozenset({T.DRAFT, T.SCHEDULED, T.FAILED, T.MISSED, T.CANCELLED})


class InvalidTransition(ValueError):
    def __init__(self, current: TargetStatus, new: TargetStatus) -> None:
        super().__init__(f"A post that is {current.value.replace('_', ' ')} cannot become {new.value.replace('_', ' ')}.")
        self.current = current
        self.new = new


def can_transition(current: TargetStatus, new: TargetStatus) -> bool:
    return new in ALLOWED[current]


def check_transition(current: TargetStatus, new: TargetStatus) -> TargetStatus:
    """Return `new` if the move is allowed, else raise InvalidTransition."""
    if not can_transition(current, new):
        raise InvalidTransition(current, new)
    return new


def rollup(statuses: Iterable[TargetStatus]) -> PostStatus:
    """A post's status from its targets' statuses.

    A mix of published and unpublished targets is PARTIAL, never FAILED; anything that
    needs the user outranks what is merely waiting.
    """
    all_statuses = list(statuses)
    if not all_statuses:
        return PostStatus.DRAFT
    live = {s for s in all_statuses if s is not T.CANCELLED}
    if not live:
        return PostStatus.CANCELLED
    if T.PUBLISHING in live:
        return PostStatus.PUBLISHING
    if live == {T.PUBLISHED}:
        return PostStatus.PUBLISHED
    if T.PUBLISHED in live:
        return PostStatus.PARTIAL
    if live == {T.DRAFT}:
        return PostStatus.DRAFT
    for status, post_status in (
        (T.NEEDS_REVIEW, PostStatus.NEEDS_REVIEW),
        (T.FAILED, PostStatus.FAILED),
        (T.MISSED, PostStatus.MISSED),
        (T.SCHEDULED, PostStatus.SCHEDULED),
    ):
        if status in live:
            return post_status
    return PostStatus.DRAFT
