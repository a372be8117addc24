"""A coming occurrence of a recurring series, as the calendar shows it: computed, never stored.

Kept apart from app.engine.series (which needs SQLAlchemy) so the calendar can tell a repeat
from a stored post without loading the ORM before its first paint.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store.views import PostView

_ids: dict[tuple[str, str], int] = {}


@dataclass(frozen=True)
class Repeat(PostView):
    """An occurrence the rule of post `head_id`'s series will create on `occurrence_key` (a local date).

    Its `id` is negative (never a stored post's) and stable for the same series and date while the
    app runs, so a selection survives a reload."""

    head_id: int = 0
    occurrence_key: str = ""


def repeat_id(series_id: str, key: str) -> int:
    """A small negative id for the occurrence of `series_id` on `key` (fits Qt's int signals)."""
    return _ids.setdefault((series_id, key), -(len(_ids) + 1))


def is_repeat(post: PostView) -> bool:
    return isinstance(post, Repeat)


def in_series(post: PostView) -> bool:
    """A projected repeat, or a stored post of a series (its current occurrence or one changed alone)."""
    return isinstance(post, Repeat) or bool(post.series_id)


def repeats_live(post: PostView) -> bool:
    """The post carries the series' rule: a repeat, or the stored occurrence the next ones follow."""
    return isinstance(post, Repeat) or bool(post.series_id and post.recurrence)
