"""`outpost post ...`"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from app.cli import open_runtime, print_json
from app.core.errors import OutpostError
from app.core.models import MediaItem, PostSpec, PostStatus
from app.core.recurrence import Recurrence
from app.core.timeutil import parse_instant, zone
from app.store.views import PostView


def register(sub: Any) -> None:
    p = sub.add_parser("post", help="create and manage posts")
    post = p.add_subparsers(dest="post_command", metavar="ACTION", required=True)

    add = post.add_parser("add", help="schedule a post (or save a draft)")
    add.add_argument("--account", action="append", required=True, metavar="ACCOUNT",
                     help="account id, handle or name; repeat for several accounts")
    add.add_argument("--at", metavar="ISO8601", help="when: 2026-12-24T09:30 (the account's time zone) or with an "
                     "offset, 2026-12-24T09:30+01:00; required unless --draft")
    add.add_argument("--text", required=True)
    add.add_argument("--media", nargs="+", default=[], metavar="PATH_OR_URL", help="images or videos")
    add.add_argument("--alt", action="append", default=[], metavar="TEXT", help="alt text, one per --media item")
    add.add_argument("--first-comment", default="", metavar="TEXT")
    add.add_argument("--repeat", metavar="RULE", help="daily | weekly:mon,thu | monthly:15 (monthly:31:last)")
    add.add_argument("--until", metavar="DATE", help="last day of the repeat, e.g. 2027-03-31")
    add.add_argument("--timezone", metavar="ZONE", help="zone for --at without an offset (default: the account's)")
    add.add_argument("--draft", action="store_true", help="save as a draft; nothing is published")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    ls = post.add_parser("list", help="posts, soonest first")
    ls.add_argument("--status", choices=[s.value for s in PostStatus])
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = post.add_parser("show", help="one post with its targets and attempts")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for name, help_text in (("cancel", "cancel what is not published yet"),
                            ("retry", "try a failed, missed or needs-review post again"),
                            ("publish-now", "publish at once"),
                            ("take-back", "after deleting it on the platform: a post handed to its own "
                                          "scheduler becomes a draft here again")):
        cmd = post.add_parser(name, help=help_text)
        cmd.add_argument("id", type=int)
        cmd.set_defaults(handler=cmd_action, action=name)


def cmd_add(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        accounts = [rt.planner.find_account(ref) for ref in args.account]
        tz_name = args.timezone or accounts[0].timezone
        if args.at is None and not args.draft:
            raise OutpostError("Say when with --at (e.g. --at 2026-12-24T09:30), or save a draft with --draft.")
        until = _parse_date(args.until) if args.until else None
        try:
            tz = zone(tz_name)
            when = parse_instant(args.at, tz) if args.at else None
            recurrence = Recurrence.parse(args.repeat, until=until).to_dict() if args.repeat else None
        except ValueError as exc:
            raise OutpostError(str(exc)) from None
        if until and not args.repeat:
            raise OutpostError("--until goes with --repeat.")
        if len(args.alt) > len(args.media):
            raise OutpostError("Give at most one --alt per --media item.")
        media = tuple(MediaItem(source=m, alt_text=args.alt[i] if i < len(args.alt) else "")
                      for i, m in enumerate(args.media))
        spec = PostSpec(text=args.text, account_ids=tuple(a.id for a in accounts), scheduled_at=when,
                        timezone=tz_name, media=media, first_comment=args.first_comment, recurrence=recurrence,
                        draft=args.draft)
        post_id = rt.planner.create_post(spec)
        view = rt.planner.post(post_id)
    if args.json:
        print_json(view.to_json())
    else:
        when_text = _local(view) if view.scheduled_at else "no date"
        print(f"Post {post_id} {view.status.value} for {when_text} on {', '.join(a.label for a in accounts)}.")
    return 0


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OutpostError(f"Cannot read {text!r} as a date; use YYYY-MM-DD.") from None


def _local(view: PostView) -> str:
    assert view.scheduled_at is not None
    return f"{view.scheduled_at.astimezone(zone(view.timezone)):%Y-%m-%d %H:%M} {view.timezone}"


def cmd_list(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        posts = rt.planner.posts(PostStatus(args.status) if args.status else None)
    if args.json:
        print_json([p.to_json() for p in posts])
        return 0
    if not posts:
        print("No posts.")
    for p in posts:
        when = _local(p) if p.scheduled_at else "(draft, no date)"
        text = p.text.replace("\n", " ")
        short = text if len(text) <= 48 else text[:47] + "…"
        platforms = ",".join(pl.value for pl in p.platforms)
        print(f"{p.id:>5}  {p.status.value:<12} {when:<28} {platforms:<18} {short}")
    return 0


def cmd_show(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        view = rt.planner.post(args.id)
        attempts = rt.planner.attempts(args.id)
    if args.json:
        data = view.to_json()
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
    print(f"  text:  {view.text}")
    if view.first_comment:
        print(f"  first comment: {view.first_comment}")
    for m in view.media:
        print(f"  media: {m.source}{' — ' + m.alt_text if m.alt_text else ''}")
    for t in view.targets:
        line = f"  → {t.account_label}: {t.status.value.replace('_', ' ')}"
        if t.external_url:
            line += f"  {t.external_url}"
        if t.last_error:
            line += f"\n      {t.last_error}"
        print(line)
    for a in attempts:
        print(f"  attempt {a.id} {a.started_at:%Y-%m-%d %H:%M:%S}Z {a.outcome.value}"
              + (f" ({a.error})" if a.error else ""))
    return 0


def cmd_action(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        action = {"cancel": rt.planner.cancel, "retry": rt.planner.retry,
                  "publish-now": rt.planner.publish_now, "take-back": rt.planner.take_back}[args.action]
        n = action(args.id)
        status = rt.planner.post(args.id).status.value
    print(f"Post {args.id}: {args.action.replace('-', ' ')} done for {n} account(s); now {status.replace('_', ' ')}.")
    return 0
