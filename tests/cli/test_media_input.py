"""Media a person names: judged by content, never read when it is not a regular file, never
downloaded past a cap or from this computer or a private network (issue 12, item 11)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from app.cli import main
from app.core.errors import PublishError
from app.platforms.http import load_media
from tests.fakes.support import png

ROOT = Path(__file__).resolve().parents[2]


def _add(data_dir: Path, capsys: pytest.CaptureFixture[str], *media: str, draft: bool = False) -> tuple[int, str, str]:
    capsys.readouterr()
    when = ["--draft"] if draft else ["--at", "2031-01-01T09:00"]
    code = main(["--data-dir", str(data_dir), "post", "add", "--account", "sandbox", "--text", "x", *when,
                 *[arg for m in media for arg in ("--media", m)], "--json"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    html = tmp_path / "photo.png"
    html.write_text("<!DOCTYPE html><html><body>not a picture</body></html>")
    empty = tmp_path / "empty.png"
    empty.touch()
    mem = tmp_path / "mem.png"
    mem.symlink_to("/proc/self/mem")
    shadow = tmp_path / "shadow.jpg"
    shadow.symlink_to("/etc/shadow")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.png"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    return {
        "html named .png": (html, "photo.png is not an image or video Outpost can post"),
        "0-byte .png": (empty, "empty.png is empty"),
        "link to /proc/self/mem": (mem, "mem.png"),
        "link to /etc/shadow": (shadow, "shadow.jpg"),
        "fifo": (fifo, "pipe.png is a pipe, not a regular file"),
        "/dev/zero": (zero, "zero.png is a device, not a regular file"),
        "folder": (folder, "folder.png is a folder"),
    }


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, /proc and /dev/zero")
@pytest.mark.parametrize("draft", [False, True], ids=["scheduled", "draft"])
def test_media_that_is_not_a_picture_or_video_file_is_refused(data_dir, tmp_path, capsys, draft):
    assert main(["--data-dir", str(data_dir), "accounts", "list"]) == 0
    for what, (path, message) in _bad_files(tmp_path).items():
        code, out, err = _add(data_dir, capsys, str(path), draft=draft)
        assert code == 2 and out == "", what
        assert err.count("\n") == 1 and message in err, (what, err)
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "post", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_the_content_decides_the_type_not_the_name(data_dir, tmp_path, capsys):
    picture = tmp_path / "really-a-png.jpg"
    picture.write_bytes(png(3, 2))
    code, out, err = _add(data_dir, capsys, str(picture))
    assert code == 0, err
    [item] = json.loads(out)["media"]
    assert (item["mime_type"], item["kind"], item["size_bytes"]) == ("image/png", "image", picture.stat().st_size)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_publishing_never_blocks_on_a_fifo_or_reads_dev_zero(tmp_path, kind):
    """An attachment swapped for a FIFO or /dev/zero after it was scheduled: the upload refuses at once.
    Run in a child with a memory cap and a timeout, since the old code blocked or read without end."""
    path = tmp_path / "swapped.png"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    script = textwrap.dedent(f"""
        import asyncio, resource, httpx
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
        from app.core.errors import PublishError
        from app.platforms.http import load_media
        async def go():
            async with httpx.AsyncClient() as client:
                try:
                    await load_media(client, {str(path)!r})
                except PublishError as exc:
                    print(exc.kind.value, exc.code, exc.message)
        asyncio.run(go())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("permanent media_missing") and "not a regular file" in done.stdout


def test_a_local_file_over_the_cap_is_refused(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(1, 1) + b"\0" * 5000)

    async def load() -> None:
        async with httpx.AsyncClient() as client:
            await load_media(client, str(big), max_bytes=1000)

    with pytest.raises(PublishError) as caught:
        asyncio.run(load())
    assert caught.value.code == "media_missing" and "over the 1 kB" in caught.value.message


# ---- downloads -----------------------------------------------------------------------------------


class _EndlessServer:
    """A loopback HTTP server that streams an endless body without Content-Length, counting what it sent."""

    def __init__(self) -> None:
        self.requests = 0
        self.sent = 0
        self.port = 0

    async def __aenter__(self) -> _EndlessServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n")
        chunk = b"\x89PNG" + b"\0" * 65532
        try:
            while self.sent < 200 * 1024 * 1024:
                writer.write(chunk)
                await writer.drain()
                self.sent += len(chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


async def test_a_download_stops_at_the_cap(monkeypatch):
    monkeypatch.setenv("OUTPOST_ALLOW_PRIVATE_MEDIA", "1")
    async with _EndlessServer() as server, httpx.AsyncClient() as client:
        with pytest.raises(PublishError) as caught:
            await load_media(client, f"http://127.0.0.1:{server.port}/huge.png", max_bytes=1_000_000)
    assert caught.value.code == "media_too_large" and "1 MB" in caught.value.message
    assert server.sent < 50 * 1024 * 1024  # it stopped reading long before the 200 MB the server would send


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.7"])
async def test_a_media_address_on_this_computer_or_a_private_network_is_refused(monkeypatch, host):
    monkeypatch.delenv("OUTPOST_ALLOW_PRIVATE_MEDIA", raising=False)
    async with _EndlessServer() as server, httpx.AsyncClient() as client:
        port = server.port if host in ("127.0.0.1", "127.1", "localhost") else 80
        with pytest.raises(PublishError) as caught:
            await load_media(client, f"http://{host}:{port}/latest/meta-data.png")
        assert server.requests == 0
    assert caught.value.code == "media_private_address" and "OUTPOST_ALLOW_PRIVATE_MEDIA=1" in caught.value.message


async def test_private_media_is_downloaded_when_the_person_allows_it(monkeypatch):
    monkeypatch.setenv("OUTPOST_ALLOW_PRIVATE_MEDIA", "1")
    body = png(2, 2)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as client:
            data, mime, name = await load_media(client, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/a.png")
    finally:
        server.close()
        await server.wait_closed()
    assert (data, mime, name) == (body, "image/png", "a.png")
