"""Write the README screenshots: month, week, agenda, editor and post details.

    python docs/screenshots/make_screenshots.py [--out docs/screenshots] [--dark] [--scale 2]

`--scale 2` draws at 200 % (QT_SCALE_FACTOR=2) in a 1920x1080 screen's logical size, 960x540;
files end in -200. `docs/screenshots/make_all.sh` runs the three (light, dark, 200 %).

Seeds a temporary data dir with sample posts in every status (a sandbox account plus a few
platform accounts that are never contacted), runs the real publisher on the qasync loop, and
grabs the windows offscreen. The import preview is made by tests/ui/test_import_dialog.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "PySide6")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ZONE = "Europe/Berlin"
TEXTS = [
    "Spring collection drops today 🌸 Twelve new prints, all made in small batches. Link in bio!",
    "Behind the scenes: how we shoot product photos with one window and a bedsheet.",
    "Weekly tip: write the hook last. Draft the post, then pick its best line and move it to the top.",
    "Live Q&A tomorrow at 18:00 — bring your questions about pricing handmade work.",
    "New on the blog: scheduling a month of posts in one afternoon (without burning out).",
    "Thank you for 10k followers! A giveaway starts Friday, details soon.",
    "Studio update: the new kiln is in. First firing this weekend 🔥",
    "Poll: which glaze should we restock first — sage, sand or midnight?",
    "Packing orders all day. Every parcel gets a handwritten note.",
    "Reminder: the newsletter goes out tomorrow morning with a discount code.",
]


def seed(runtime, now: datetime, rng: random.Random) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Sample accounts and posts in every status; returns ids of posts worth showing."""
    from app.core.models import Platform, PostSpec, TargetStatus
    from app.store.schema import Attempt, Event, Post

    p = runtime.planner
    sandbox = p.default_account_id()
    accounts = [sandbox]
    for platform, handle, name in ((Platform.BLUESKY, "clayandco.bsky.social", "Clay & Co"),
                                   (Platform.MASTODON, "@clayandco@mastodon.art", "Clay & Co"),
                                   (Platform.THREADS, "clayandco", "Clay & Co")):
        accounts.append(p.add_account(platform, handle, display_name=name, timezone=ZONE).id)
    tz = ZoneInfo(ZONE)
    today = now.astimezone(tz).date()
    month_start = today.replace(day=1)
    ids: dict[str, int] = {}

    def post(day_offset: int, hour: int, minute: int, text: str, targets: list[int]) -> int:
        wall = datetime.combine(month_start + timedelta(days=day_offset), time(hour, minute))
        at = wall.replace(tzinfo=tz).astimezone(UTC)
        future = at if at > now + timedelta(minutes=2) else now + timedelta(days=400, minutes=rng.randint(0, 9999))
        post_id = p.create_post(PostSpec(text, tuple(targets), future, ZONE))
        if at != future:
            with runtime.db.write() as s:
                row = s.get(Post, post_id)
                row.scheduled_at = at
                for t in row.targets:
                    t.scheduled_at = at
                    t.due_at = at
        return post_id

    def set_status(post_id: int, status: TargetStatus, *, error: str = "", url: str = "",
                   http: int | None = None) -> None:
        with runtime.db.write() as s:
            row = s.get(Post, post_id)
            for t in row.targets:
                t.status = status.value
                t.due_at = None
                t.last_error = error
                t.external_url = url
                started = row.scheduled_at + timedelta(seconds=1)
                outcome = {"published": "succeeded", "failed": "failed", "needs_review": "unknown"}.get(status.value)
                if outcome:
                    s.add(Attempt(target_id=t.id, started_at=started, finished_at=started + timedelta(seconds=2),
                                  outcome=outcome, idempotency_key=f"seed-{t.id}", http_status=http,
                                  error=error, duration_ms=1800 + rng.randint(0, 900)))
            row.status = {"published": "published", "failed": "failed", "needs_review": "needs_review",
                          "missed": "missed"}[status.value]
            level = "error" if error else "warning" if status is TargetStatus.MISSED else "info"
            s.add(Event(at=row.scheduled_at + timedelta(seconds=3), level=level,
                        kind="seed", message=f"Post #{post_id}: {status.value.replace('_', ' ')}"
                        + (f": {error}" if error else ""), post_id=post_id))

    days_in_grid = 35
    for offset in range(days_in_grid):
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            hour = rng.choice((8, 9, 11, 12, 14, 17, 18, 20))
            # Mastodon takes posts into its own scheduler ahead of time: keep the samples offline.
            targets = rng.sample([a for a in accounts if a != accounts[2]], rng.randint(1, 3))
            post_id = post(offset, hour, rng.choice((0, 15, 30, 45)), rng.choice(TEXTS), targets)
            row_at = runtime.planner.post(post_id).scheduled_at
            if row_at is not None and row_at <= now + timedelta(minutes=2):
                set_status(post_id, TargetStatus.PUBLISHED, url=f"https://example.social/@clayandco/{post_id}")
    today_offset = (today - month_start).days
    ids["failed"] = post(max(0, today_offset - 2), 10, 30, "Our studio tour video is finally up — 8 minutes "
                         "of wheel-throwing, glazing and a very curious cat.", [accounts[2]])
    set_status(ids["failed"], TargetStatus.FAILED, http=422,
               error="Mastodon refused the post: Validation failed: the video is longer than this instance allows "
                     "(max 120 s). Trim it or share a link instead.")
    ids["review"] = post(max(0, today_offset - 1), 19, 0, "Last call for the glaze poll! Results on Monday.",
                         [accounts[1], accounts[3]])
    set_status(ids["review"], TargetStatus.NEEDS_REVIEW,
               error="The connection dropped after the post was sent; Outpost cannot tell whether it went out.")
    for hours in (5, 3):
        missed = post(max(0, today_offset - 1), 24 - hours, 0, rng.choice(TEXTS), [sandbox])
        set_status(missed, TargetStatus.MISSED)
    ids["next"] = p.create_post(PostSpec("Kiln opening livestream starts in an hour! Come watch the reveal 🔥",
                                         (sandbox, accounts[1], accounts[3]), now + timedelta(hours=2, minutes=10),
                                         ZONE))
    from app.core.models import MediaItem
    from app.core.recurrence import Recurrence

    first_tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    at = datetime.combine(first_tuesday, time(8, 15)).replace(tzinfo=tz).astimezone(UTC)
    ids["series"] = p.create_post(PostSpec("Glaze tip of the week: test tiles first, always. #ceramics",
                                           (sandbox, accounts[1]), at, ZONE,
                                           recurrence=Recurrence.parse("weekly:tue,fri").to_dict()))
    picture = sample_image(runtime.data_dir)
    ids["picture"] = p.create_post(PostSpec("New glazes drying on the shelf — which one is your favourite?",
                                            (sandbox, accounts[1]), now + timedelta(days=2, hours=3), ZONE,
                                            media=(MediaItem(str(picture), alt_text="Glazed bowls on a shelf"),)))
    ids["partial"] = post(max(0, today_offset - 3), 12, 15, "Market day! Find us at stall 14 until 16:00.",
                          [sandbox, accounts[1]])
    with runtime.db.write() as s:
        row = s.get(Post, ids["partial"])
        for t, (status, error) in zip(row.targets, ((TargetStatus.PUBLISHED, ""), (
                TargetStatus.FAILED, "Bluesky refused the post: the image is larger than 1 MB.")), strict=True):
            t.status, t.last_error, t.due_at = status.value, error, None
        row.status = "partial"
    p.create_post(PostSpec("Idea: a 'mistakes of the month' carousel with the pieces that cracked.", (sandbox,),
                           None, ZONE, draft=True))
    p.create_post(PostSpec("Thread draft: everything we learned selling at our first craft fair.", (accounts[1],),
                           None, ZONE, draft=True))
    return ids


def sample_image(folder: Path) -> Path:
    """A small gradient PNG to show a thumbnail in the editor."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    image = QImage(480, 360, QImage.Format.Format_RGB32)
    p = QPainter(image)
    g = QLinearGradient(QPointF(0, 0), QPointF(480, 360))
    g.setColorAt(0, QColor("#e9b98b"))
    g.setColorAt(1, QColor("#7a4e35"))
    p.fillRect(image.rect(), g)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#f4e6d4"))
    p.drawEllipse(150, 90, 180, 200)
    p.end()
    path = folder / "kiln.png"
    image.save(str(path))
    return path


async def shoot(app, out: Path, data_dir: Path, *, sizes: list[tuple[int, int]], suffix: str = "",  # type: ignore[no-untyped-def]
                theme_choice: str = "light") -> list[Path]:
    from app.core.models import Platform
    from app.core.timeutil import utcnow
    from app.engine.runtime import Runtime
    from app.ui.main_window import MainWindow

    runtime = Runtime.open(data_dir)
    from app.ui.settings import window_settings

    window_settings(data_dir).setValue("theme", theme_choice)  # the window applies its saved theme
    ids = seed(runtime, utcnow(), random.Random(7))
    await runtime.start()
    written: list[Path] = []
    window = MainWindow(runtime, tz_name=ZONE)
    window.show()

    def grab(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        for _ in range(3):
            app.processEvents()
        path = out / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        written.append(path)

    for width, height in sizes:
        tag = "" if (width, height) == sizes[0] else f"-{width}x{height}"
        window.resize(width, height)
        window.set_view("month")
        window.go_today()
        window._selection_changed([])
        grab(window, f"month{tag}")
        window.set_view("week")
        window.go_today()
        window.week.scroll_to_time(time(8, 0))
        window._selection_changed([ids["next"]])
        grab(window, f"week{tag}")
        window.set_view("agenda")
        window._selection_changed([])
        grab(window, f"agenda{tag}")
        window.set_view("activity")
        grab(window, f"activity{tag}")
        window.set_view("month")
        window._selection_changed([ids["failed"]])
        grab(window, f"details{tag}")
        window._selection_changed([ids["review"]])
        grab(window, f"details-review{tag}")
        window._selection_changed([])
        accounts = runtime.planner.accounts()
        editor = window.open_editor()
        for account in accounts:
            editor.account_buttons[account.id].setChecked(account.platform in (Platform.BLUESKY, Platform.THREADS,
                                                                               Platform.MASTODON))
        editor.text.setPlainText("Kiln opening livestream starts in an hour! 🔥 We are unloading the first firing "
                                 "of the new glazes live — sage, sand and midnight. Bring your questions about "
                                 "glaze chemistry, pricing and shipping; we will answer as many as we can. "
                                 "Replay at https://example.com/live/kiln-opening-spring-collection")
        editor.first_comment.setPlainText("Shop the pieces from the stream: https://example.com/shop")
        editor.media.add(str(sample_image(data_dir)), "A glazed bowl cooling on a wooden shelf")
        editor.refresh()
        editor.resize(min(1000, width), min(700, height))
        grab(editor, f"editor{tag}")
        editor.close()
        settings = window.menus.open_settings() if hasattr(window, "menus") else None
        if settings is not None:
            settings.resize(min(820, width), min(600, height))
            grab(settings, f"settings{tag}")
            settings.close()
    window.shutdown()
    window.close()
    await runtime.stop()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--also-small", action="store_true", help="also grab every window at 1024×700")
    parser.add_argument("--dark", action="store_true", help="use a dark palette (files end in -dark)")
    parser.add_argument("--scale", type=float, default=1.0, help="draw at this scale (2: 200 %%, files end in -200)")
    args = parser.parse_args()
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":  # its screen is 800x800 unless told: a desktop's
        import json

        config = Path(tempfile.gettempdir()) / "outpost-shots-screen.json"
        config.write_text(json.dumps({"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080,
                                                   "logicalDpi": 96, "dpr": 1}]}), encoding="utf-8")
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # sample accounts have no secrets
    from PySide6.QtWidgets import QApplication

    from app.ui import theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    theme.apply(app, "dark" if args.dark else "light")
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [(1280, 800)] + ([(1024, 700)] if args.also_small else [])
    if args.scale != 1.0:  # a 1920x1080 screen at this scale
        sizes = [(int(1920 / args.scale), int(1080 / args.scale))]
    suffix = ("-dark" if args.dark else "") + (f"-{round(args.scale * 100)}" if args.scale != 1.0 else "")
    with tempfile.TemporaryDirectory(prefix="outpost-shots-") as tmp, loop:
        written = loop.run_until_complete(shoot(app, out, Path(tmp) / "data", sizes=sizes, suffix=suffix,
                                                theme_choice="dark" if args.dark else "light"))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
