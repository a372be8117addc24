"""`outpost accounts ...`"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli import open_runtime, print_json
from app.core.models import Platform


def register(sub: Any) -> None:
    p = sub.add_parser("accounts", help="list, add and remove accounts")
    acc = p.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    ls = acc.add_parser("list", help="the connected accounts")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=cmd_list)

    add = acc.add_parser("add", help="add an account")
    add_sub = add.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    sb = add_sub.add_parser("sandbox", help="a local practice account that publishes into the data folder")
    sb.add_argument("--name", required=True, help="a name for it")
    sb.add_argument("--timezone", help="its time zone (default: this computer's)")
    sb.add_argument("--latency-ms", type=int, default=0, help="simulated platform latency")
    sb.add_argument("--fail", choices=["transient", "permanent", "rate_limit", "auth", "unknown", "unknown_after_write"],
                    help="simulate a failing platform")
    sb.add_argument("--fail-times", type=int, help="fail only the first N attempts")
    sb.add_argument("--json", action="store_true")
    sb.set_defaults(handler=cmd_add_sandbox)

    rm = acc.add_parser("remove", help="remove an account, its secrets, and cancel its unpublished posts")
    rm.add_argument("account", help="account id, handle or name")
    rm.set_defaults(handler=cmd_remove)


def cmd_list(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        accounts = rt.planner.accounts()
    if args.json:
        print_json([a.to_json() for a in accounts])
        return 0
    if not accounts:
        print("No accounts yet. Add one with `outpost accounts add sandbox --name Practice`.")
    for a in accounts:
        star = "*" if a.is_default else " "
        status = "" if a.status.value == "active" else f"  [{a.status.value.replace('_', ' ')}]"
        print(f"{star}{a.id:>4}  {a.platform.label:<14} {a.handle:<28} {a.display_name}{status}")
    return 0


def cmd_add_sandbox(args: argparse.Namespace, data_dir: Path) -> int:
    settings: dict[str, object] = {}
    if args.latency_ms:
        settings["latency_ms"] = args.latency_ms
    if args.fail:
        settings["fail"] = args.fail
    if args.fail_times is not None:
        settings["fail_times"] = args.fail_times
    handle = args.name.strip().lower().replace(" ", "-")
    with open_runtime(data_dir) as rt:
        account = rt.planner.add_account(Platform.SANDBOX, handle, display_name=args.name, timezone=args.timezone,
                                         settings=settings)
    if args.json:
        print_json(account.to_json())
    else:
        print(f"Added sandbox account {account.id} ({account.display_name}).")
    return 0


def cmd_remove(args: argparse.Namespace, data_dir: Path) -> int:
    with open_runtime(data_dir) as rt:
        account = rt.planner.find_account(args.account)
        cancelled = rt.planner.remove_account(account.id)
        try:
            rt.secrets.delete(account.id)
        except Exception as exc:  # keyring trouble must not keep a removed account half-removed
            print(f"outpost: the account was removed, but its keyring entry could not be deleted: {exc}")
    print(f"Removed {account.label}; {cancelled} unpublished post(s) cancelled.")
    return 0
