"""Start-up and calendar speed with a 10,000-post database.

    python bench/startup.py [--posts 10000] [--runs 5]

Prints:
- the time to the first painted main window (the month view) through app.ui.launch, as a ratio
  to a bare PySide6 QMainWindow started the same way (QApplication, qasync loop) in the same run
  (goal <= 1.5); each start is a fresh process, with our modules byte-compiled as installed.
  On a shared machine other processes slow random runs down, so it prints the ratio of the
  medians and of the fastest runs (each side's best start), and the load average it ran under;
- the time to switch months (query of the visible range + layout + paint) and to repaint during
  a drag, with the same database (goal <= 16 ms).
The posts are spread over three years (two past, one ahead), about nine a day; twelve recurring
series (daily, weekdays, weekly, monthly) start tomorrow, so every month ahead also shows their
coming occurrences, computed for the range on screen (about 120 a month).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before any import: a child's clock starts here

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ZONE = "Europe/Berlin"


def seed(data_dir: Path, count: int) -> None:
    """`count` posts over three years through the planner, then two thirds moved into the past."""
    import random
    from datetime import timedelta

    from sqlalchemy import select, update

    from app.core.models import PostSpec
    from app.core.timeutil import utcnow
    from app.engine.runtime import Runtime
    from app.store.schema import Post, Target

    rng = random.Random(10_000)
    runtime = Runtime.open(data_dir)
    try:
        account = runtime.planner.default_account_id()
        assert account is not None
        start = utcnow() + timedelta(days=1)
        specs = [PostSpec(f"Post {i}: " + " ".join(rng.choice(("launch", "studio", "tips", "sale", "kiln", "glaze",
                                                               "thanks", "live", "poll", "blog")) for _ in range(12)),
                          (account,), start + timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60)), ZONE)
                 for i in range(count)]
        runtime.planner.create_posts(specs, validate=False)
        two_years = timedelta(days=2 * 365 + 1)
        cutoff = start + two_years
        with runtime.db.write() as s:
            for table in (Post, Target):
                rows = s.execute(select(table.id, table.scheduled_at).where(table.scheduled_at < cutoff)).all()
                changes = [{"id": i, "scheduled_at": at - two_years, "status": "published"} for i, at in rows]
                if table is Target:
                    for change in changes:
                        change["due_at"] = None
                s.execute(update(table), changes)
        rules: list[dict[str, object]] = [{"kind": "daily"}, {"kind": "daily"}, {"kind": "weekly", "weekdays": [0, 1, 2, 3, 4]},
                 {"kind": "weekly", "weekdays": [1, 4]}, {"kind": "weekly", "weekdays": [5]},
                 {"kind": "weekly", "weekdays": [0, 2]}, {"kind": "weekly", "weekdays": [6]},
                 {"kind": "monthly", "monthday": 1}, {"kind": "monthly", "monthday": 15},
                 {"kind": "monthly", "monthday": 31, "month_end": "last_day"}, {"kind": "daily", "interval": 2},
                 {"kind": "weekly", "weekdays": [3]}]
        runtime.planner.create_posts([PostSpec(f"Series {i}: studio hours and tips", (account,),
                                               start + timedelta(hours=8 + i), ZONE, recurrence=rule)
                                      for i, rule in enumerate(rules)], validate=False)
    finally:
        runtime.close()


# -- children: one fresh process per start -------------------------------------------------------
def child(kind: str, data_dir: Path) -> None:
    """Start one way and print the first paint (and for Outpost, the first paint with posts).

    The probe is an event filter on the measured widget only (the bare window; Outpost's month
    view), never on the whole application: an application-wide Python filter is called for every
    event of every widget, which taxes a real window (about 1,000 events before its first paint)
    and not a bare one (about 30).
    """
    os.environ["QT_API"] = "PySide6"
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])

    class FirstPaint(QObject):
        shell = 0.0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                now = (time.perf_counter() - T0) * 1000
                if kind == "bare":
                    print(f"{now:.1f} {now:.1f}", flush=True)
                    os._exit(0)
                self.shell = self.shell or now
                if watched.parent().posts:  # type: ignore[attr-defined]
                    print(f"{self.shell:.1f} {now:.1f}", flush=True)
                    os._exit(0)
            return False

    watcher = FirstPaint()
    if kind == "bare":
        import asyncio

        import qasync
        from PySide6.QtWidgets import QMainWindow

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        window = QMainWindow()
        window.installEventFilter(watcher)
        window.resize(1280, 800)
        window.show()
        with loop:
            loop.run_forever()
    else:
        import app.ui.main_window as main_window
        from app.ui.launch import run

        class Probed(main_window.MainWindow):  # type: ignore[misc]
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, **kwargs)
                self.month.viewport().installEventFilter(watcher)

        main_window.MainWindow = Probed  # type: ignore[misc]
        run(data_dir, [])
    raise SystemExit("no paint happened")


def precompile() -> None:
    """Byte-compile our modules first, as an installed app has them (pip compiles on install and
    the frozen bundle ships .pyc): with PYTHONDONTWRITEBYTECODE set, every start would otherwise
    compile about 30 of our modules from source, which no user's start does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "app"), str(ROOT / "tests" / "support")],
                   check=True, capture_output=True)


def time_start(kind: str, data_dir: Path) -> tuple[float, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="tests.support.memkeyring.InMemoryKeyring")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} start failed:\n{out.stdout}\n{out.stderr}")
    first, full = lines[-1].split()
    return float(first), float(full)


# -- in-process: month switches and drag repaints --------------------------------------------------
SWITCH_CPU: list[float] = []  # this process's CPU time per switch: the same work, minus the waits for a busy CPU

def interaction(data_dir: Path) -> tuple[list[float], list[float], list[float], int, int]:
    os.environ["QT_API"] = "PySide6"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.engine.runtime import Runtime
    from app.ui import theme
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    theme.apply(app)
    runtime = Runtime.open(data_dir)
    window = MainWindow(runtime, tz_name=ZONE)
    window.resize(1280, 800)
    window.show()
    for _ in range(5):
        app.processEvents()
    month = window.month
    switches: list[float] = []
    cold: list[float] = []
    for step in [1] * 6 + [-1] * 12 + [1] * 6:
        QTest.qWait(250)  # the user's pause between clicks: the window prefetches the next pages
        t, c = time.perf_counter(), time.process_time()
        window.step(step)
        month.viewport().repaint()
        switches.append((time.perf_counter() - t) * 1000)
        SWITCH_CPU.append((time.process_time() - c) * 1000)
    for step in [1] * 4 + [-1] * 4:
        window._range_cache.clear()  # as right after a change: the page must be read first
        t = time.perf_counter()
        window.step(step)
        month.viewport().repaint()
        cold.append((time.perf_counter() - t) * 1000)
    window.go_today()  # this month: the past days full of posts, the coming ones of series occurrences
    app.processEvents()
    visible = len(month.posts)
    repeats = sum(p.id < 0 for p in month.posts)
    chip = month._chip_rects[len(month._chip_rects) // 2][0]
    vp = month.viewport()
    start = chip.center().toPoint()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    drags: list[float] = []
    for i in range(1, 61):
        pos = QPoint(start.x() + (i * 37) % (vp.width() - start.x() - 10), start.y() + (i * 23) % 200)
        t = time.perf_counter()
        QTest.mouseMove(vp, pos)
        vp.repaint()
        drags.append((time.perf_counter() - t) * 1000)
    QTest.keyClick(month, Qt.Key.Key_Escape)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    window.shutdown()
    window.close()
    runtime.close()
    return switches, cold, drags, visible, repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=("bare", "outpost"))
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.data_dir))
        return 1
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memkeyring.InMemoryKeyring"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.1f} on {os.cpu_count()} cores (figures grow with it)")
    with tempfile.TemporaryDirectory(prefix="outpost-bench-startup-") as tmp:
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        seed(data_dir, args.posts)
        print(f"seeded {args.posts} posts in {time.perf_counter() - t:.1f} s")
        precompile()
        time_start("outpost", data_dir)  # warm the OS file cache once for both
        time_start("bare", data_dir)
        bare: list[float] = []
        shell: list[float] = []
        full: list[float] = []
        for _ in range(args.runs):
            bare.append(time_start("bare", data_dir)[0])
            first, with_posts = time_start("outpost", data_dir)
            shell.append(first)
            full.append(with_posts)
        b, o, f = statistics.median(bare), statistics.median(shell), statistics.median(full)

        def runs(values: list[float]) -> str:
            return ", ".join(f"{x:.0f}" for x in values)

        print(f"first paint, bare QMainWindow        : median {b:7.1f} ms  (runs: {runs(bare)})")
        print(f"first paint, Outpost main window      : median {o:7.1f} ms  (runs: {runs(shell)})")
        print(f"first paint with the month's posts    : median {f:7.1f} ms  (runs: {runs(full)})")
        print(f"start-up ratio, first paint           : {o / b:.2f}  (goal <= 1.5; medians)")
        print(f"start-up ratio, fastest runs          : {min(shell) / min(bare):.2f}  (each side's best start)")
        print(f"start-up ratio, with posts on screen  : {f / b:.2f}")
        switches, cold, drags, visible, repeats = interaction(data_dir)
        q = statistics.quantiles
        print(f"posts in the month dragged in         : {visible}, of which {repeats} coming occurrences of series")
        print(f"month switch ({visible} posts in view)  : median {statistics.median(switches):5.1f} ms, "
              f"p95 {q(switches, n=20)[-1]:5.1f} ms  (goal <= 16)")
        print(f"month switch, CPU time of this process: median {statistics.median(SWITCH_CPU):5.1f} ms")
        print(f"month switch, page not prefetched     : median {statistics.median(cold):5.1f} ms, "
              f"max {max(cold):5.1f} ms  (query of the range included)")
        print(f"drag repaint                          : median {statistics.median(drags):5.1f} ms, "
              f"p95 {q(drags, n=20)[-1]:5.1f} ms  (goal <= 16)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
