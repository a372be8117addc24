"""The optional media host: an S3-compatible bucket the person owns, where Outpost puts local
files that a platform only fetches from a public address (Instagram images and reels, Threads;
platforms.md §0 item 1).

The settings (endpoint, bucket, region, public address) live in `media-host.json` in the data
folder; the access key pair lives in the OS keyring only. Requests are signed with AWS
Signature Version 4 by `httpx_auth.AWS4Auth`, a small, typed signer built for httpx (no SDK).

An upload is harmless to repeat (it publishes nothing), so its failures are never UNKNOWN.
Adapters journal each uploaded key and address, and delete the object once the post is out.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx
from httpx_auth import AWS4Auth

from app.auth.secrets import KeyringSecrets
from app.core.errors import OutpostError, PublishError
from app.core.models import AccountInfo, ErrorKind, MediaItem
from app.core.redact import register_secret
from app.platforms.base import StepJournal
from app.platforms.http import Tuning, body_snippet, classify, content_hash, create_client, load_media
from app.store.private import write_private_text

log = logging.getLogger(__name__)

CONFIG_FILE = "media-host.json"
KEYRING_SERVICE = "Outpost media host"
SETTING_HINT = "Accounts › Instagram › Media host… (or `outpost accounts media-host set`)"


@dataclass(frozen=True)
class MediaHostConfig:
    endpoint: str  # e.g. https://s3.eu-central-1.amazonaws.com or https://<id>.r2.cloudflarestorage.com
    bucket: str
    public_base_url: str  # where objects can be read by anyone, e.g. https://media.example.com
    region: str = "us-east-1"
    prefix: str = "outpost/"

    def __post_init__(self) -> None:
        for name in ("endpoint", "public_base_url"):
            parts = urlsplit(getattr(self, name))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise OutpostError(f"The media host's {name.replace('_', ' ')} must be a web address "
                                   f"starting with https://.")
        if not self.bucket.strip() or "/" in self.bucket:
            raise OutpostError("Enter the media host's bucket name (without slashes).")

    def object_url(self, key: str) -> str:
        """Path-style address of an object (works with AWS, R2, MinIO, Backblaze B2, Wasabi...)."""
        return f"{self.endpoint.rstrip('/')}/{self.bucket}/{key}"

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/{key}"


def load_config(data_dir: Path) -> MediaHostConfig | None:
    """The saved media host settings, or None when none is set up (or the file is unreadable)."""
    path = data_dir / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return MediaHostConfig(**{k: str(v) for k, v in data.items() if k in MediaHostConfig.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, OutpostError) as exc:
        log.warning("Ignoring the media host settings in %s: %s", path, exc)
        return None


def save_config(data_dir: Path, config: MediaHostConfig, access_key_id: str, secret_access_key: str) -> None:
    """Keys to the keyring first (nothing half-saved when the keyring is missing), then the settings."""
    if not access_key_id.strip() or not secret_access_key.strip():
        raise OutpostError("Enter the media host's access key id and secret access key.")
    register_secret(secret_access_key)
    KeyringSecrets(KEYRING_SERVICE).put(0, {"access_key_id": access_key_id.strip(),
                                            "secret_access_key": secret_access_key.strip()})
    data_dir.mkdir(parents=True, exist_ok=True)
    write_private_text(data_dir / CONFIG_FILE, json.dumps(asdict(config), indent=2))


def remove_config(data_dir: Path) -> None:
    (data_dir / CONFIG_FILE).unlink(missing_ok=True)
    KeyringSecrets(KEYRING_SERVICE).delete(0)


@dataclass(frozen=True)
class HostedFile:
    key: str
    url: str


class MediaHost:
    """Uploads local files to the bucket and deletes them again."""

    def __init__(self, config: MediaHostConfig, access_key_id: str, secret_access_key: str,
                 tuning: Tuning | None = None) -> None:
        self.config = config
        register_secret(secret_access_key)
        self._auth = AWS4Auth(access_id=access_key_id, secret_key=secret_access_key, region=config.region,
                              service="s3")
        self._client = create_client(tuning or Tuning())

    @classmethod
    def from_data_dir(cls, data_dir: Path, tuning: Tuning | None = None) -> MediaHost | None:
        """The configured host, or None. Raises PublishError(PERMANENT) when its keys are gone."""
        config = load_config(data_dir)
        if config is None:
            return None
        keys = KeyringSecrets(KEYRING_SERVICE).get(0) or {}
        if not keys.get("access_key_id") or not keys.get("secret_access_key"):
            raise PublishError(ErrorKind.PERMANENT, f"The media host's keys are missing from the keyring. Enter "
                               f"them again in {SETTING_HINT}.", code="media_host_keys")
        return cls(config, keys["access_key_id"], keys["secret_access_key"], tuning)

    def new_key(self, name: str) -> str:
        suffix = PurePosixPath(name).suffix.lower()[:8]
        return f"{self.config.prefix}{secrets.token_urlsafe(18)}{suffix}"

    async def upload(self, source: str, mime_type: str = "") -> HostedFile:
        data, mime, name = await load_media(self._client, source, mime_type)
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        key = self.new_key(name)
        response = await self._send("PUT", key, content=data, headers={"Content-Type": mime})
        if response.status_code not in (200, 201):
            raise self._error(response, f"upload {name}")
        return HostedFile(key, self.config.public_url(key))

    async def delete(self, key: str) -> bool:
        """Delete an object; False (and a log line) when that did not work. Never raises."""
        try:
            response = await self._send("DELETE", key)
        except PublishError as exc:
            log.warning("Could not delete %s from the media host: %s", key, exc.message)
            return False
        if response.status_code not in (200, 204, 404):
            log.warning("The media host refused to delete %s: HTTP %s", key, response.status_code)
            return False
        return True

    async def check(self) -> str:
        """Put, read back publicly and delete a tiny file: proves the settings work end to end."""
        key = self.new_key("outpost-check.txt")
        body = b"Outpost media host check\n"
        response = await self._send("PUT", key, content=body, headers={"Content-Type": "text/plain"})
        if response.status_code not in (200, 201):
            raise self._error(response, "store a test file")
        url = self.config.public_url(key)
        try:
            public = await self._client.get(url)
        except httpx.HTTPError as exc:
            raise OutpostError(f"The test file was stored but {url} could not be read ({type(exc).__name__}). "
                               "Check the public address.") from None
        finally:
            await self.delete(key)
        if public.status_code != 200 or public.content != body:
            raise OutpostError(f"The test file was stored but {url} answered HTTP {public.status_code}. Make the "
                               "bucket (or that address) publicly readable.")
        return url

    async def _send(self, method: str, key: str, **kwargs: object) -> httpx.Response:
        try:
            return await self._client.request(method, self.config.object_url(key), auth=self._auth,
                                              **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            error = classify(exc, request_sent_for_create=False, platform="the media host")
            raise PublishError(ErrorKind.TRANSIENT, error.message, code=error.code) from None

    @staticmethod
    def _error(response: httpx.Response, what: str) -> PublishError:
        status = response.status_code
        detail = body_snippet(response, 200)
        if status >= 500 or status == 429:
            return PublishError(ErrorKind.TRANSIENT, f"The media host could not {what} (HTTP {status}). Outpost "
                                "will try again.", http_status=status, code=f"media_host_{status}")
        return PublishError(ErrorKind.PERMANENT, f"The media host refused to {what} (HTTP {status}: {detail}). "
                            f"Check its settings and keys in {SETTING_HINT}.", http_status=status,
                            code=f"media_host_{status}")

    async def aclose(self) -> None:
        await self._client.aclose()


# ---- for adapters: put a post's local files online, and take them down again --------------

def enabled_for(data_dir: Path, account: AccountInfo) -> bool:
    """A media host is set up and this account has not opted out (`media_host: false`)."""
    return account.settings.get("media_host") is not False and load_config(data_dir) is not None


def _journaled(checkpoints: Mapping[str, str]) -> dict[str, list[str]]:
    try:
        known = json.loads(checkpoints.get("hosted") or "{}")
    except ValueError:
        return {}
    return known if isinstance(known, dict) else {}


async def public_addresses(media: Sequence[MediaItem], checkpoints: Mapping[str, str], journal: StepJournal,
                           data_dir: Path, tuning: Tuning | None = None) -> list[str]:
    """Each attachment's public address. Local files are uploaded once; each upload is journaled
    (`hosted`: source -> [key, url]) and reused by a later attempt while the attachments are unchanged."""
    if all(m.is_url for m in media):
        return [m.source for m in media]
    made_from = content_hash(*(m.source for m in media))
    known = _journaled(checkpoints) if checkpoints.get("hosted_of") == made_from else {}
    host = MediaHost.from_data_dir(data_dir, tuning)
    if host is None:
        raise PublishError(ErrorKind.PERMANENT, f"A file on this computer needs a media host. Set one up in "
                           f"{SETTING_HINT}.", code="media_not_public")
    try:
        for item in media:
            if item.is_url or item.source in known:
                continue
            hosted = await host.upload(item.source, item.mime_type)
            known[item.source] = [hosted.key, hosted.url]
            journal.record("hosted_of", made_from)
            journal.record("hosted", json.dumps(known))
    finally:
        await host.aclose()
    return [m.source if m.is_url else known[m.source][1] for m in media]


async def delete_hosted(checkpoints: Mapping[str, str], data_dir: Path, tuning: Tuning | None = None) -> None:
    """Delete the files `public_addresses` journaled, once the platform has its copy (best effort)."""
    known = _journaled(checkpoints)
    if not known:
        return
    try:
        host = MediaHost.from_data_dir(data_dir, tuning)
    except PublishError as exc:
        log.warning("Could not remove uploaded files from the media host: %s", exc.message)
        return
    if host is None:
        return
    try:
        for key, _url in known.values():
            await host.delete(key)
    finally:
        await host.aclose()
