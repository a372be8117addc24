"""Files other programs wrote are read only when they are regular files, and never past a cap."""

from __future__ import annotations

import os
import threading

import pytest

from app.store.files import FileRefused, bounded_reader, open_regular_file, read_head, read_regular_file


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    assert read_regular_file(path, 1000) == path.read_bytes()
    assert read_head(path, 8) == (b"\x89PNG\r\n\x1a\n", 108)


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pic.png"
    os.mkfifo(fifo)
    done = threading.Event()
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            read_regular_file(fifo, 1000)
        except BaseException as exc:
            errors.append(exc)
        done.set()

    threading.Thread(target=attempt, daemon=True).start()
    assert done.wait(10), "reading a FIFO blocked"
    assert isinstance(errors[0], FileRefused) and "pipe" in str(errors[0])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_are_refused(device, tmp_path):
    link = tmp_path / "pic.png"
    link.symlink_to(device)
    with pytest.raises(FileRefused, match="device"):
        read_regular_file(link, 1000)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(FileRefused, match="folder"):
        read_regular_file(tmp_path, 1000)


def test_the_cap_counts_bytes_read_not_what_stat_says(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(FileRefused, match="over"):
        read_regular_file(path, 1000)
    # /proc files report size 0 yet hold bytes: the cap still applies to what is read
    with pytest.raises(FileRefused, match="over"):
        read_regular_file("/proc/self/status", 10)


def test_a_bounded_reader_stops_at_the_cap(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"y" * 5000)
    with open_regular_file(path) as fh:
        reader = bounded_reader(fh, 1000, "big.csv")
        with pytest.raises(FileRefused, match=r"big\.csv"):
            reader.read()


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "nope.png", 10)
