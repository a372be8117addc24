"""Render docs/guide.md into resources/guide/index.html, the guide F1 opens (offline, bundled).

    python packaging/render_guide.py          # write it
    python packaging/render_guide.py --check  # exit 1 when the HTML is older than the Markdown

Qt's own Markdown reader (md4c) does the parsing, so the page shows exactly as QTextBrowser
renders Markdown; the few hard-coded looks it writes are removed so the page follows the
window's palette (links readable in dark mode) and font.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "guide.md"
TARGET = ROOT / "resources" / "guide" / "index.html"


def slug(title: str) -> str:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def render(markdown: str) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QTextDocument

    _app = QGuiApplication.instance() or QGuiApplication([])  # fonts need an application
    doc = QTextDocument()
    doc.setMarkdown(markdown)
    html = doc.toHtml()
    html = re.sub(r'<span style=" color:#0000ff;">(.*?)</span>', r"\1", html)  # links take the palette's colour
    html = re.sub(r"<body style=\"[^\"]*\">", "<body>", html)  # the window's font, not the build machine's
    html = html.replace("<head>", "<head><title>Outpost guide</title>", 1)

    def heading(match: re.Match[str]) -> str:
        level, style, inner = match.group(1), match.group(2), match.group(3)
        title = re.sub(r"<[^>]+>", "", inner)
        style = style.replace("margin-top:0px", "margin-top:18px" if level != "1" else "margin-top:4px")
        style = style.replace("margin-bottom:0px", "margin-bottom:6px")
        return f'<h{level} style="{style}"><a name="{slug(title)}"></a>{inner}</h{level}>'

    html = re.sub(r'<h([1-6]) style="([^"]*)">(.*?)</h\1>', heading, html)
    html = html.replace('cellpadding="4"', 'cellpadding="6"')
    return html + "\n"


def main(argv: list[str]) -> int:
    html = render(SOURCE.read_text(encoding="utf-8"))
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != html:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python packaging/render_guide.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(html, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(html):,} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
