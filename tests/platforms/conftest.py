from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.mastodon import FakeMastodon


@pytest.fixture
def mastodon_fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake
