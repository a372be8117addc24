"""Pytest fixtures that start each fake for one test. Import them into a conftest:

    from tests.fakes.fixtures import bluesky_fake, mastodon_fake, threads_fake  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.threads import FakeThreads


@pytest.fixture
def mastodon_fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def bluesky_fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        yield fake


@pytest.fixture
def threads_fake() -> Iterator[FakeThreads]:
    with FakeThreads() as fake:
        yield fake
