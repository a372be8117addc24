"""`outpost post ...`"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.cli import open_runtime, plain_text, print_json, record_id, whole_number, zone_name
from app.core.errors import OutpostError
from app.core.models import MediaItem, PostSpec, PostStatus, Severity
from app.core.recurrence import Recurrence
from app.core.redact import for_terminal
from app.core.timeutil import local_zone_name, parse_instant, zone
from app.store.views import PostView, numbered_attempts, shown_minute


def register(sub: Any) -> None:
    p = sub.add_parser("post", help="create and manage posts")
    post = p.add_subparsers(dest="post_command", metavar="ACTION", required=True)

    add = post.add_parser("add", help="schedule a post (or save a draft)")
    add.add_argument("--account", action="append", required=True, metavar="ACCOUNT",
                     help="account id, handle or name; repeat for several accounts")
    add.add_argument("--at", metavar="ISO8601", help="when: 2026-12-24T09:30 (the account's time zone) or with an "
                     "offset, 2026-12-24T09:30+01:00; required unless --draft")
    add.add_argument("--text", required=True, type=plain_text)
    add.add_argument("--media", nargs="+", action="extend", default=[], metavar="PATH_OR_URL",
                     help="images or videos; repeat it or give several (--media a.png b.png)")
    add.add_argument("--alt", action="append", default=[], metavar="TEXT", type=plain_text,
                     help="alt text for the media items in order: the first --alt describes the first file")
    add.add_argument("--thread", action="append", default=[], metavar="TEXT", type=plain_text,
                     help="a further part of a thread, posted as a reply to the one before; repeat for each part")
    add.add_argument("--first-comment", default="", metavar="TEXT", type=plain_text)
    add.add_argument("--repeat", metavar="RULE", help="daily | weekly:mon,thu | monthly:15 (monthly:31:last)")
    add.add_argument("--until", metavar="DATE", help="last day of the repeat, e.g. 2027-03-31")
    add.add_argument("--timezone", metavar="ZONE", type=zone_name, help="zone for --at without an offset (default: the account's)")
    add.add_argument("--draft", action="store_true", help="save as a draft; nothing is published")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    ls = post.add_parser("list", help="every post, soonest first, undated drafts last")
    ls.add_argument("--status", action="append", choices=[s.value for s in PostStatus],
                    help="only posts with this status; repeat for several")
    ls.add_argument("--account", action="append", metavar="ACCOUNT",
                    help="only posts for this account (id, handle or name); repeat for several")
    ls.add_argument("--from", dest="start", metavar="WHEN",
                    help="only posts due at or after this date or time (2026-12-01 or 2026-12-01T09:00)")
    ls.add_argument("--to", dest="end", metavar="WHEN",
                    help="only posts due before this time; a date alone includes that whole day")
    ls.add_argument("--timezone", metavar="ZONE", type=zone_name, help="zone for --from/--to without an offset (default: this "
                    "computer's)")
    ls.add_argument("--limit", type=whole_number(1, 1_000_000), metavar="N",
                    help="show at most N posts (default: all) and say how many were left out")
    ls.add_argument("--offset", type=whole_number(0, 2**62), default=0, metavar="N", help="skip the first N posts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = post.add_parser("show", help="one post with its targets and attempts")
    show.add_argument("id", type=record_id)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for name, help_text in (("cancel", "cancel what is not published yet"),
                            ("retry", "try a failed, missed or needs-review post again"),
                            ("publish-now", "publish at once"),
                            ("take-back", "after deleting it on the platform: a post handed to its own "
                                          "scheduler becomes a draft here again")):
        cmd = post.add_parser(name, help=help_text)
        cmd.add_argument("id", type=record_id)
        cmd.set_defaults(handler=cmd_action, action=name)


def cmd_add(args: argparse.Namespace, data_dir: Path) -> int:
    if args.at is None and not args.draft:
        raise OutpostError("Say when with --at (e.g. --at 2026-12-24T09:30), or save a draft with --draft.")
    if args.at is not None and not args.at.strip():
        raise OutpostError("--at is empty: give a date and time such as 2026-12-24T09:30, or leave --at out "
                           "and use --draft for a draft without a date.")
    if len(args.alt) > len(args.media):
        raise OutpostError(f"{len(args.alt)} --alt texts for {len(args.media)} --media item(s): give at most one "
                           "--alt per item, in the same order.")
    for i, part in enumerate(args.thread, start=2):
        if not part.strip():
            raise OutpostError(f"Thread part {i} (--thread) is empty; leave it out or write its text.")
    with open_runtime(data_dir) as rt:
        accounts = [rt.planner.find_account(ref) for ref in args.account]
        tz_name = args.timezone or accounts[0].timezone
        until = _parse_date(args.until) if args.until else None
        try:
            tz = zone(tz_name)
            when = parse_instant(args.at, tz) if args.at is not None else None
            recurrence = Recurrence.parse(args.repeat, until=until).to_dict() if args.repeat else None
        except ValueError as exc:
            raise OutpostError(str(exc)) from None
        if until and not args.repeat:
            raise OutpostError("--until goes with --repeat.")
        media = tuple(MediaItem(source=m, alt_text=args.alt[i] if i < len(args.alt) else "")
                      for i, m in enumerate(args.media))
        spec = PostSpec(text=args.text, account_ids=tuple(a.id for a in accounts), scheduled_at=when,
                        timezone=tz_name, media=media, first_comment=args.first_comment, thread=tuple(args.thread),
                        recurrence=recurrence, draft=args.draft)
        if args.draft:  # a draft may be unfinished, but never holds a file Outpost could not post
            bad_media = [p for p in rt.planner.validate(spec) if p.field == "media" and p.severity is Severity.ERROR]
            if bad_media:
                raise OutpostError(bad_media[0].message)
        post_id = rt.planner.create_post(spec)
        view = rt.planner.post(post_id)
    if args.json:
        print_json(post_json(view))
    else:
        when_text = _local(view) if view.scheduled_at else "no date"
        names = ", ".join(for_terminal(a.label) for a in accounts)
        parts = f" (a thread of {len(view.thread) + 1} parts)" if view.thread else ""
        print(f"Post {post_id}{parts} {view.status.value} for {when_text} on {names}.")
    return 0


def post_json(view: PostView) -> dict[str, object]:
    """The stable JSON of a post, with its thread parts (the text is part 1)."""
    data = view.to_json()
    data["thread"] = list(view.thread)
    return data


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OutpostError(f"Cannot read {for_terminal(text)!r} as a date; use YYYY-MM-DD.") from None


def _local(view: PostView) -> str:
    assert view.scheduled_at is not None
    return f"{view.scheduled_at.astimezone(zone(view.timezone)):%Y-%m-%d %H:%M} {view.timezone}"


def _bound(text: str, tz_name: str, *, end: bool) -> datetime:
    """--from/--to: an instant, or a date (its start; for --to, the end of that day)."""
    try:
        tz = zone(tz_name)
        instant = parse_instant(text, tz)
    except ValueError as exc:
        raise OutpostError(f"{'--to' if end else '--from'}: {exc}") from None
    if end and len(text.strip()) == 10:  # a date alone: the whole day is included
        instant += timedelta(days=1)
    return instant


def cmd_list(args: argparse.Namespace, data_dir: Path) -> int:
    from app.store.listing import PostFilter

    tz_name = args.timezone or local_zone_name()
    start = _bound(args.start, tz_name, end=False) if args.start else None
    end = _bound(args.end, tz_name, end=True) if args.end else None
    if start and end and end <= start:
        raise OutpostError("--to must be later than --from.")
    with open_runtime(data_dir) as rt:
        account_ids = tuple(rt.planner.find_account(ref).id for ref in args.account or ())
        wanted = PostFilter(statuses=tuple(PostStatus(v) for v in args.status or ()), account_ids=account_ids,
                            start=start, end=end)
        page = rt.planner.post_page(wanted, limit=args.limit, offset=args.offset)
    posts = page.posts
    left_out = page.total - len(posts)
    note = ""
    if left_out:
        after = page.total - args.offset - len(posts)
        note = (f"Showing posts {args.offset + 1}-{args.offset + len(posts)} of {page.total}"
                if posts else f"No posts at --offset {args.offset}; there are {page.total}")
        note += f"; {left_out} left out" + (f" (--offset {args.offset + len(posts)} shows the next)." if after > 0
                                            else ".")
    if args.json:
        print_json([post_json(p) for p in posts])
        if note:
            print(note, file=sys.stderr)
        return 0
    if not posts and not note:
        print("No posts.")
    for p in posts:
        when = _local(p) if p.scheduled_at else "(draft, no date)"
        text = p.text.replace("\r\n", " ").replace("\n", " ")
        short = for_terminal(text if len(text) <= 48 else text[:47] + "…")
        platforms = ",".join(pl.value for pl in p.platforms)
        print(f"{p.id:>5}  {p.status.value:<12} {when:<28} {platforms:<18} {short}")
    if note:
        print(note)
    return 0


def cmd_show(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        view = rt.planner.post(args.id)
        attempts = rt.planner.attempts(args.id)
    if args.json:
        data = post_json(view)
        data["attempts"] = [
            {"id": a.id, "target_id": a.target_id, "outcome": a.outcome.value, "started_at": a.started_at.isoformat(),
             "http_status": a.http_status, "error": a.error or None, "duration_ms": a.duration_ms}
            for a in attempts
        ]
        print_json(data)
        return 0
    print(f"Post {view.id} · {view.status.value.replace('_', ' ')}")
    print(f"  when:  {_local(view) if view.scheduled_at else 'no date (draft)'}")
    if view.recurrence:
        print(f"  repeat: {Recurrence.from_dict(view.recurrence).describe()}")
    width = 9 if view.thread else 7  # "part 12: " lines up the parts of a long thread
    label = "part 1" if view.thread else "text"
    print(f"  {label + ':':<{width}}{_block(view.text, 2 + width)}")
    for i, part in enumerate(view.thread, start=2):
        print(f"  {f'part {i}:':<{width}}{_block(part, 2 + width)}")
    if view.first_comment:
        print(f"  first comment: {_block(view.first_comment, 17)}")
    for m in view.media:
        print(f"  media: {for_terminal(m.source)}{' — ' + for_terminal(m.alt_text) if m.alt_text else ''}")
    for t in view.targets:
        line = f"  → {for_terminal(t.account_label)}: {t.status.value.replace('_', ' ')}"
        if t.external_url:
            line += f"  {for_terminal(t.external_url)}"
        if t.last_error:
            line += f"\n      {for_terminal(t.last_error)}"
        print(line)
    due = {t.id: t.scheduled_at or view.scheduled_at for t in view.targets}
    zone_of_post = zone(view.timezone)
    for number, a in numbered_attempts(attempts):
        when = shown_minute(a, due.get(a.target_id)).astimezone(zone_of_post)
        on = f" on {for_terminal(a.account_label)}" if len(view.targets) > 1 else ""
        print(f"  try {number}{on} {when:%Y-%m-%d %H:%M} {a.outcome.value.replace('_', ' ')}"
              + (f" ({for_terminal(a.error)})" if a.error else ""))
    return 0


def _block(text: str, indent: int) -> str:
    """Multi-line text, escaped, with its further lines indented under the first (never a forged row)."""
    return for_terminal(text, keep_newlines=True).replace("\n", "\n" + " " * indent)


def cmd_action(args: argparse.Namespace, data_dir: Path) -> int:
    import sys

    from app.cli.publishing import NOT_RUNNING, publish_now, publisher_pid

    if args.action == "publish-now":
        return publish_now(args.id, data_dir)  # by the running Outpost, or here when none runs
    with open_runtime(data_dir) as rt:
        action = {"cancel": rt.planner.cancel, "retry": rt.planner.retry,
                  "take-back": rt.planner.take_back}[args.action]
        n = action(args.id)  # the running Outpost, if any, hears of it at once (app/engine/changes.py)
        status = rt.planner.post(args.id).status.value
    print(f"Post {args.id}: {args.action.replace('-', ' ')} done for {n} account(s); now {status.replace('_', ' ')}.")
    if args.action == "retry" and publisher_pid(data_dir) is None:
        print(f"{NOT_RUNNING} Until then it waits.", file=sys.stderr)
    return 0
