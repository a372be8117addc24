"""The media host against a fake S3 bucket that checks every write's Signature V4."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.core.errors import OutpostError, PublishError
from app.core.models import ErrorKind
from app.platforms.mediahost import MediaHost, MediaHostConfig, load_config, remove_config, save_config
from tests.fakes.s3 import FakeS3
from tests.fakes.server import Fault
from tests.fakes.support import FAST, PNG_1PX


@pytest.fixture
def s3() -> Iterator[FakeS3]:
    with FakeS3() as fake:
        yield fake


def config_for(s3: FakeS3) -> MediaHostConfig:
    return MediaHostConfig(endpoint=s3.url, bucket=s3.bucket, public_base_url=s3.public_base_url, region=s3.region)


@pytest.fixture
async def host(s3: FakeS3) -> AsyncIterator[MediaHost]:
    h = MediaHost(config_for(s3), s3.access_key_id, s3.secret_access_key, FAST)
    yield h
    await h.aclose()


def _png(tmp_path: Path) -> str:
    path = tmp_path / "photo.png"
    path.write_bytes(PNG_1PX)
    return str(path)


async def test_a_local_file_is_uploaded_signed_and_readable_at_its_public_address(host, s3, tmp_path) -> None:
    hosted = await host.upload(_png(tmp_path))
    assert s3.rejected == []
    assert hosted.key.startswith("outpost/") and hosted.key.endswith(".png")
    assert s3.objects[hosted.key]["data"] == PNG_1PX and s3.objects[hosted.key]["content_type"] == "image/png"
    assert hosted.url == f"{s3.public_base_url}/{hosted.key}"
    assert await host.delete(hosted.key) and s3.deleted == [hosted.key] and s3.objects == {}


async def test_wrong_keys_are_refused_and_the_message_points_at_the_setting(s3, tmp_path) -> None:
    host = MediaHost(config_for(s3), s3.access_key_id, "not-the-secret", FAST)
    with pytest.raises(PublishError) as caught:
        await host.upload(_png(tmp_path))
    await host.aclose()
    assert caught.value.kind is ErrorKind.PERMANENT and "Media host" in caught.value.message
    assert s3.rejected == ["signature does not match"] and s3.objects == {}


async def test_a_server_error_while_uploading_is_transient(host, s3, tmp_path) -> None:
    s3.inject(Fault(r"/outpost-media/.+", method="PUT", status=503))
    with pytest.raises(PublishError) as caught:
        await host.upload(_png(tmp_path))
    assert caught.value.kind is ErrorKind.TRANSIENT


async def test_the_check_puts_reads_and_deletes_a_file(host, s3) -> None:
    url = await host.check()
    assert url.startswith(s3.public_base_url) and s3.objects == {} and len(s3.deleted) == 1


def test_settings_round_trip_with_keys_only_in_the_keyring(tmp_path, s3) -> None:
    save_config(tmp_path, config_for(s3), s3.access_key_id, s3.secret_access_key)
    assert load_config(tmp_path) == config_for(s3)
    assert s3.secret_access_key not in (tmp_path / "media-host.json").read_text()
    assert MediaHost.from_data_dir(tmp_path) is not None
    remove_config(tmp_path)
    assert load_config(tmp_path) is None and MediaHost.from_data_dir(tmp_path) is None


def test_an_address_that_is_not_a_web_address_is_refused() -> None:
    with pytest.raises(OutpostError, match="https://"):
        MediaHostConfig(endpoint="s3.example.com", bucket="b", public_base_url="https://m.example.com")


async def test_public_addresses_upload_local_files_once_and_delete_hosted_removes_them(s3, tmp_path) -> None:
    from app.core.models import MediaItem
    from app.platforms.mediahost import delete_hosted, public_addresses
    from tests.fakes.support import MemoryJournal

    save_config(tmp_path, config_for(s3), s3.access_key_id, s3.secret_access_key)
    media = (MediaItem("https://cdn.example.com/a.jpg"), MediaItem(_png(tmp_path)))
    journal = MemoryJournal()
    first = await public_addresses(media, {}, journal, tmp_path, FAST)
    again = await public_addresses(media, journal.steps, MemoryJournal(), tmp_path, FAST)
    assert first == again and first[0] == "https://cdn.example.com/a.jpg" and first[1].startswith(s3.public_base_url)
    assert s3.calls_to(r"/outpost-media/.+", "PUT") == 1
    await delete_hosted(journal.steps, tmp_path, FAST)
    assert s3.objects == {} and len(s3.deleted) == 1
