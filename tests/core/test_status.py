import itertools

import pytest

from app.core.models import PostStatus
from app.core.models import TargetStatus as T
from app.core.status import ALLOWED, InvalidTransition, check_transition, rollup


def test_the_life_of_a_target_follows_the_documented_path():
    path = [T.DRAFT, T.SCHEDULED, T.PUBLISHING, T.PUBLISHED]
    for current, new in itertools.pairwise(path):
        assert check_transition(current, new) is new


@pytest.mark.parametrize("end", [T.PUBLISHED, T.FAILED, T.NEEDS_REVIEW, T.SCHEDULED])
def test_publishing_ends_in_an_outcome_or_back_in_the_queue(end):
    assert check_transition(T.PUBLISHING, end) is end


def test_published_is_final_so_nothing_can_republish_it():
    assert ALLOWED[T.PUBLISHED] == frozenset()
    with pytest.raises(InvalidTransition, match="published cannot become scheduled"):
        check_transition(T.PUBLISHED, T.SCHEDULED)


def test_a_draft_cannot_jump_straight_to_published():
    with pytest.raises(InvalidTransition):
        check_transition(T.DRAFT, T.PUBLISHED)


def test_missed_waits_for_the_user_to_publish_reschedule_or_discard():
    assert ALLOWED[T.MISSED] == {T.SCHEDULED, T.CANCELLED, T.DRAFT}


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ([], PostStatus.DRAFT),
        ([T.DRAFT, T.DRAFT], PostStatus.DRAFT),
        ([T.SCHEDULED, T.DRAFT], PostStatus.SCHEDULED),
        ([T.PUBLISHED, T.PUBLISHED], PostStatus.PUBLISHED),
        ([T.PUBLISHED, T.FAILED], PostStatus.PARTIAL),
        ([T.PUBLISHED, T.NEEDS_REVIEW], PostStatus.PARTIAL),
        ([T.PUBLISHED, T.SCHEDULED], PostStatus.PARTIAL),
        ([T.PUBLISHED, T.CANCELLED], PostStatus.PUBLISHED),
        ([T.PUBLISHING, T.PUBLISHED], PostStatus.PUBLISHING),
        ([T.FAILED, T.NEEDS_REVIEW], PostStatus.NEEDS_REVIEW),
        ([T.FAILED, T.SCHEDULED], PostStatus.FAILED),
        ([T.MISSED, T.SCHEDULED], PostStatus.MISSED),
        ([T.CANCELLED, T.CANCELLED], PostStatus.CANCELLED),
    ],
)
def test_a_post_rolls_up_its_targets(targets, expected):
    assert rollup(targets) is expected


def test_a_partial_success_is_never_a_plain_failure():
    for other in (T.FAILED, T.MISSED, T.NEEDS_REVIEW):
        assert rollup([T.PUBLISHED, other]) is PostStatus.PARTIAL
