"""The media host settings window against the fake S3 bucket, reached from the Accounts dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import Platform
from app.engine.runtime import Runtime
from app.platforms.mediahost import load_config
from app.ui.accounts_dialog import CONNECTABLE, AccountsDialog
from app.ui.media_host_dialog import MediaHostDialog
from tests.fakes.s3 import FakeS3


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(tmp_path / "data", exclusive=False)
    yield rt
    rt.close()


def _fill(d: MediaHostDialog, s3: FakeS3, secret: str) -> None:
    d.endpoint.setText(s3.url)
    d.bucket.setText(s3.bucket)
    d.region.setText(s3.region)
    d.public_base_url.setText(s3.public_base_url)
    d.key_id.setText(s3.access_key_id)
    d.secret.setText(secret)


async def test_the_instagram_page_opens_the_media_host_window_which_tests_then_saves(qtbot, runtime) -> None:
    accounts = AccountsDialog(runtime)
    qtbot.addWidget(accounts)
    accounts.platform.setCurrentIndex(CONNECTABLE.index(Platform.INSTAGRAM))
    assert accounts.forms.currentWidget().isAncestorOf(accounts.media_host_button)
    accounts.open_media_host()
    [dialog] = accounts.findChildren(MediaHostDialog)
    with FakeS3() as s3:
        _fill(dialog, s3, "wrong")
        await dialog.save()
        assert "refused" in dialog.status.text() and load_config(runtime.data_dir) is None
        _fill(dialog, s3, s3.secret_access_key)
        await dialog.save()
        assert "Saved" in dialog.status.text() and s3.objects == {} and dialog.secret.text() == ""
    config = load_config(runtime.data_dir)
    assert config is not None and config.bucket == s3.bucket
    dialog.remove()
    assert load_config(runtime.data_dir) is None
