"""Render resources/icon.svg into every icon file the installers need.

    python packaging/make_icons.py [--check]

Writes resources/icons/app/outpost-<size>.png, resources/outpost.ico (Windows) and
resources/outpost.icns (macOS). Qt renders the SVG offscreen; the .ico and .icns
containers are written here, so no imaging library is needed. `--check` only verifies
that every output file exists (build.spec relies on them).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icon.svg"
PNG_DIR = ROOT / "resources" / "icons" / "app"
ICO = ROOT / "resources" / "outpost.ico"
ICNS = ROOT / "resources" / "outpost.icns"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types share a size).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"icp6", 64), (b"ic12", 64),
    (b"ic07", 128), (b"ic08", 256), (b"ic13", 256), (b"ic09", 512), (b"ic14", 512), (b"ic10", 1024),
)
# The SVG canvas keeps Apple's icon-grid margin (tile = 824 of 1024 px) for macOS; Windows
# and Linux icons conventionally fill more of the square, so they use a tighter view box.
TIGHT_VIEW_BOX = (64.0, 64.0, 896.0, 896.0)


def render(size: int, *, tight: bool) -> bytes:
    """Return the icon at `size` x `size` pixels as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    if tight:
        renderer.setViewBox(QRectF(*TIGHT_VIEW_BOX))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub wants bytes; PySide6 needs str
    buffer.close()
    return bytes(data.data())


def _dib(png: bytes) -> bytes:
    """A 32-bit BMP (DIB) image for an .ico entry: what every Windows shell and Inno Setup read."""
    from PySide6.QtGui import QImage

    decoded = QImage.fromData(png, "PNG")  # type: ignore[arg-type]
    image = decoded.convertToFormat(QImage.Format.Format_ARGB32)
    width, height = image.width(), image.height()
    # ICO DIBs store rows bottom-up, BGRA (Format_ARGB32 is BGRA in memory on little-endian hosts).
    rows = [bytes(image.constScanLine(y))[: width * 4] for y in range(height)]  # type: ignore[call-overload]
    if sys.byteorder != "little":
        rows = [b"".join(row[i : i + 4][::-1] for i in range(0, len(row), 4)) for row in rows]
    pixels = b"".join(reversed(rows))
    mask_row = ((width + 31) // 32) * 4  # 1-bit AND mask, all zero: alpha carries transparency
    header = struct.pack("<IiiHHIIiiII", 40, width, height * 2, 1, 32, 0, len(pixels), 0, 0, 0, 0)
    return header + pixels + b"\0" * (mask_row * height)


def build_ico(pngs: dict[int, bytes]) -> bytes:
    """An .ico with BMP entries up to 128 px and a PNG entry at 256 px (Vista+ layout)."""
    payloads = [(size, pngs[size] if size >= 256 else _dib(pngs[size])) for size in ICO_SIZES]
    offset = 6 + 16 * len(payloads)
    directory, blobs = b"", b""
    for size, blob in payloads:
        edge = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return struct.pack("<HHH", 0, 1, len(payloads)) + directory + blobs


def build_icns(pngs: dict[int, bytes]) -> bytes:
    """An .icns whose elements are PNGs (macOS 10.7+ reads these for every size)."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify that every output exists")
    args = parser.parse_args(argv)

    outputs = [PNG_DIR / f"outpost-{size}.png" for size in PNG_SIZES] + [ICO, ICNS]
    if args.check:
        missing = [str(path.relative_to(ROOT)) for path in outputs if not path.is_file()]
        for path in missing:
            print(f"missing: {path}")
        return 1 if missing else 0

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage/QPainter need it
    tight = {size: render(size, tight=True) for size in PNG_SIZES}
    full = {size: render(size, tight=False) for size in {size for _, size in ICNS_TYPES}}

    PNG_DIR.mkdir(parents=True, exist_ok=True)
    for size, png in tight.items():
        (PNG_DIR / f"outpost-{size}.png").write_bytes(png)
    ICO.write_bytes(build_ico(tight))
    ICNS.write_bytes(build_icns(full))
    for output in outputs:
        print(f"{output.stat().st_size:>9,d}  {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
