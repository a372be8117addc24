"""`outpost accounts ...`"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.auth.accounts import ConnectedAccount
from app.cli import open_runtime, plain_text, port_number, print_json, seconds, whole_number, zone_name
from app.core.errors import OutpostError, PublishError
from app.core.models import AccountInfo, Platform
from app.core.redact import for_terminal

if TYPE_CHECKING:
    from app.auth.meta import MetaBrowserSignIn
    from app.platforms.mediahost import MediaHost


MAX_LATENCY_MS = 600_000  # ten minutes: longer than any publish call is allowed to take
SIGN_IN_SECONDS = seconds(1, 86_400)


def register(sub: Any) -> None:
    p = sub.add_parser("accounts", help="list, add and remove accounts")
    acc = p.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)

    ls = acc.add_parser("list", help="the connected accounts")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=cmd_list)

    add = acc.add_parser("add", help="add an account")
    add_sub = add.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    sb = add_sub.add_parser("sandbox", help="a local practice account that publishes into the data folder")
    sb.add_argument("--name", required=True, type=plain_text, help="a name for it")
    sb.add_argument("--timezone", type=zone_name, help="its time zone, e.g. Europe/Berlin (default: this computer's)")
    sb.add_argument("--latency-ms", type=whole_number(0, MAX_LATENCY_MS), default=0,
                    help=f"simulated platform latency, 0 to {MAX_LATENCY_MS} ms")
    sb.add_argument("--fail", choices=["transient", "permanent", "rate_limit", "auth", "unknown", "unknown_after_write"],
                    help="simulate a failing platform")
    sb.add_argument("--fail-times", type=whole_number(0, 1_000_000), help="fail only the first N attempts")
    sb.add_argument("--json", action="store_true")
    sb.set_defaults(handler=cmd_add_sandbox)

    th = add_sub.add_parser("threads", help="a Threads account, from a long-lived access token")
    th.add_argument("--token-stdin", action="store_true", required=True,
                    help="read the access token from standard input (never from the command line)")
    th.add_argument("--json", action="store_true")
    th.set_defaults(handler=cmd_add_threads)

    bs = add_sub.add_parser("bluesky", help="a Bluesky account, with an app password read from standard input")
    bs.add_argument("--handle", required=True, help="your handle, e.g. alice.bsky.social")
    bs.add_argument("--service", help="your PDS address if it is not bsky.social")
    bs.add_argument("--json", action="store_true")
    bs.set_defaults(handler=cmd_add_bluesky)

    md = add_sub.add_parser("mastodon", help="a Mastodon account, from an access token read from standard input")
    md.add_argument("--server", required=True, help="your server, e.g. mastodon.social")
    md.add_argument("--token-stdin", action="store_true", required=True,
                    help="read the access token from standard input (never from the command line)")
    md.add_argument("--json", action="store_true")
    md.set_defaults(handler=cmd_add_mastodon_token)

    for name, what in (("instagram", "an Instagram professional account"), ("facebook", "a Facebook Page")):
        mp = add_sub.add_parser(name, help=f"{what}, from a long-lived access token read from standard input")
        mp.add_argument("--token-stdin", action="store_true", required=True,
                        help="read the access token from standard input (never from the command line)")
        if name == "facebook":
            mp.add_argument("--page", default="", help="the Page's id or name, when the token manages several")
        mp.add_argument("--json", action="store_true")
        mp.set_defaults(handler=cmd_add_meta)

    connect = acc.add_parser("connect", help="sign in through your browser")
    connect_sub = connect.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    mc = connect_sub.add_parser("mastodon", help="sign in to a Mastodon server in your browser")
    mc.add_argument("--server", required=True, help="your server, e.g. mastodon.social")
    mc.add_argument("--no-browser", action="store_true", help="only print the address to open")
    mc.add_argument("--timeout", type=SIGN_IN_SECONDS, default=300.0,
                    help="seconds to wait for the sign-in (default 300)")
    mc.add_argument("--json", action="store_true")
    mc.set_defaults(handler=cmd_connect_mastodon)

    tc = connect_sub.add_parser("threads", help="sign in to Threads in your browser, then paste the address it "
                                "ends on (Meta only redirects to https addresses)")
    tc.add_argument("--app-id", required=True, help="your Meta app's Threads app id")
    tc.add_argument("--redirect-uri", required=True,
                    help="the https redirect address registered for the app, e.g. https://127.0.0.1:8443/callback/threads")
    tc.add_argument("--json", action="store_true")
    tc.set_defaults(handler=cmd_connect_threads)

    for name in ("instagram", "facebook"):
        mc2 = connect_sub.add_parser(name, help=f"sign in to {name.title()} in your browser, then paste the address "
                                     "it ends on (Meta only redirects to https addresses)")
        mc2.add_argument("--app-id", required=True, help="your Meta app's id (the app secret is read from stdin)")
        mc2.add_argument("--redirect-uri", required=True, help="the https redirect address registered for the app, "
                         f"e.g. https://127.0.0.1:8443/callback/{name}")
        if name == "facebook":
            mc2.add_argument("--page", default="", help="the Page's id or name, when you manage several")
        mc2.add_argument("--json", action="store_true")
        mc2.set_defaults(handler=cmd_connect_meta)

    yc = connect_sub.add_parser("youtube", help="sign in to YouTube in your browser with your own Google OAuth client "
                                "(the client secret is read from standard input)")
    yc.add_argument("--client-id", required=True, help="the client id of your Google Cloud \"Desktop app\" client")
    yc.add_argument("--no-browser", action="store_true", help="only print the address to open")
    yc.add_argument("--timeout", type=SIGN_IN_SECONDS, default=300.0,
                    help="seconds to wait for the sign-in (default 300)")
    yc.add_argument("--privacy", choices=["public", "unlisted", "private"], default="public",
                    help="who may see the videos Outpost publishes (default public)")
    yc.add_argument("--json", action="store_true")
    yc.set_defaults(handler=cmd_connect_youtube)

    mh = acc.add_parser("media-host", help="the S3-compatible bucket where Outpost puts local files for Instagram")
    mh_sub = mh.add_subparsers(dest="media_host_command", metavar="ACTION", required=True)
    mh_set = mh_sub.add_parser("set", help="set it up; the access key id and secret are read from standard input "
                               "(two lines)")
    mh_set.add_argument("--endpoint", required=True, help="e.g. https://s3.eu-central-1.amazonaws.com")
    mh_set.add_argument("--bucket", required=True)
    mh_set.add_argument("--region", default="us-east-1")
    mh_set.add_argument("--public-base-url", required=True,
                        help="where the bucket's files can be read by anyone, e.g. https://media.example.com")
    mh_set.add_argument("--prefix", default="outpost/", help="folder for Outpost's files (default outpost/)")
    mh_set.add_argument("--no-check", action="store_true", help="save without uploading a test file")
    mh_set.set_defaults(handler=cmd_media_host_set)
    for action, handler in (("show", cmd_media_host_show), ("check", cmd_media_host_check),
                            ("remove", cmd_media_host_remove)):
        mh_sub.add_parser(action, help=f"{action} the media host settings").set_defaults(handler=handler)

    _register_developer_app_connects(connect_sub)

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
        print(f"{star}{a.id:>4}  {a.platform.label:<14} {for_terminal(a.handle):<28} {for_terminal(a.display_name)}"
              f"{status}")
    return 0


def cmd_add_sandbox(args: argparse.Namespace, data_dir: Path) -> int:
    settings: dict[str, object] = {}
    if args.latency_ms:
        settings["latency_ms"] = args.latency_ms
    if args.fail:
        settings["fail"] = args.fail
    if args.fail_times is not None:
        settings["fail_times"] = args.fail_times
    if len(args.name) > 200:
        raise OutpostError(f"The name is {len(args.name)} characters; keep it to 200.")
    handle = args.name.strip().lower().replace(" ", "-")
    with open_runtime(data_dir) as rt:
        account = rt.planner.add_account(Platform.SANDBOX, handle, display_name=args.name, timezone=args.timezone,
                                         settings=settings)
    if args.json:
        print_json(account.to_json())
    else:
        print(f"Added sandbox account {account.id} ({for_terminal(account.display_name)}).")
    return 0


def cmd_remove(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth.disconnect import forget_account

    notes: list[str] = []
    with open_runtime(data_dir) as rt:
        account = rt.planner.find_account(args.account)
        cancelled = rt.planner.remove_account(account.id)
        info = AccountInfo(account.id, account.platform, account.handle, account.display_name, account.timezone,
                           account.server, dict(account.settings))
        try:
            notes = asyncio.run(forget_account(info, rt.secrets, api_base=dict(rt.context.api_base)))
        except Exception as exc:  # keyring trouble must not keep a removed account half-removed
            print(f"outpost: the account was removed, but its keyring entry could not be deleted: {exc}")
    print(f"Removed {for_terminal(account.label)}; {cancelled} unpublished post(s) cancelled.")
    for note in notes:
        print(note)
    return 0


# --- connecting real platforms ---------------------------------------------------------------


def _read_secret(prompt: str) -> str:
    """One line from standard input; a hidden prompt when it is a terminal."""
    value = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline()
    value = value.strip()
    if not value:
        raise OutpostError(f"Nothing was read for the {prompt.rstrip(': ').lower()}; pipe it on standard input.")
    return value


def _save(data_dir: Path, connected: ConnectedAccount, as_json: bool) -> int:
    """Store the account row and its secrets; the secrets go to the keyring only."""
    with open_runtime(data_dir) as rt:
        account = rt.planner.add_account(connected.platform, connected.handle, display_name=connected.display_name,
                                         server=connected.server, settings=connected.settings)
        try:
            rt.secrets.put(account.id, connected.secrets)
        except OutpostError:
            rt.planner.remove_account(account.id)
            raise
    if as_json:
        print_json(account.to_json())
    else:
        print(f"Connected {for_terminal(connected.label)} as account {account.id}.")
    return 0


def _check_keyring() -> None:
    """Fail before any network call when there is nowhere safe to keep the secret."""
    from app.auth.secrets import KeyringSecrets

    KeyringSecrets().get(0)


def _api_base(platform: Platform) -> str:
    from app.platforms.registry import api_base_overrides

    return api_base_overrides().get(platform.value, "")


def cmd_add_threads(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth import threads
    from app.platforms.threads import DEFAULT_BASE

    _check_keyring()
    token = _read_secret("Threads access token: ")
    connected = asyncio.run(threads.account_from_token(token, api_base=_api_base(Platform.THREADS) or DEFAULT_BASE))
    return _save(data_dir, connected, args.json)


def cmd_add_bluesky(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth import bluesky

    _check_keyring()
    password = _read_secret("App password: ")
    service = args.service or _api_base(Platform.BLUESKY) or bluesky.DEFAULT_SERVICE
    connected = asyncio.run(bluesky.sign_in(args.handle, password, service=service))
    return _save(data_dir, connected, args.json)


def cmd_add_mastodon_token(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth import mastodon

    _check_keyring()
    token = _read_secret("Mastodon access token: ")
    connected = asyncio.run(mastodon.account_from_token(args.server, token))
    return _save(data_dir, connected, args.json)


def cmd_connect_mastodon(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth.mastodon import MastodonSignIn

    _check_keyring()
    sign_in = MastodonSignIn(args.server, timeout=args.timeout)

    def open_url(url: str) -> None:
        print(f"Open this address in your browser to let Outpost post for you on {sign_in.server}:", flush=True)
        print(url, flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        print("Waiting for your answer in the browser (Ctrl+C cancels)...", file=sys.stderr, flush=True)

    connected = asyncio.run(sign_in.run(open_url))
    return _save(data_dir, connected, args.json)


def cmd_connect_threads(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth.meta import browser_sign_in

    _check_keyring()
    secret = _read_secret("Threads app secret: ")
    sign_in = browser_sign_in(Platform.THREADS, args.app_id, secret, args.redirect_uri,
                              base=_api_base(Platform.THREADS) or "")
    return _finish_pasted(sign_in, Platform.THREADS, data_dir, args.json)


def cmd_add_meta(args: argparse.Namespace, data_dir: Path) -> int:
    """`accounts add instagram|facebook --token-stdin`."""
    _check_keyring()
    platform = Platform(args.platform)
    token = _read_secret(f"{platform.label} access token: ")
    base = _api_base(platform)
    if platform is Platform.FACEBOOK:
        from app.auth import facebook

        connected = asyncio.run(facebook.account_from_token(token, page=args.page,
                                                            api_base=base or facebook.DEFAULT_BASE))
    else:
        from app.auth import instagram

        connected = asyncio.run(instagram.account_from_token(token, api_base=base or instagram.DEFAULT_BASE))
    return _save(data_dir, connected, args.json)


def cmd_connect_meta(args: argparse.Namespace, data_dir: Path) -> int:
    """`accounts connect instagram|facebook`: browser sign-in, then paste the address it ends on."""
    from app.auth.meta import browser_sign_in

    _check_keyring()
    platform = Platform(args.platform)
    secret = _read_secret("App secret: ")
    sign_in = browser_sign_in(platform, args.app_id, secret, args.redirect_uri,
                              page=getattr(args, "page", "") or "", base=_api_base(platform) or "")
    return _finish_pasted(sign_in, platform, data_dir, args.json)


def _finish_pasted(sign_in: MetaBrowserSignIn, platform: Platform, data_dir: Path, as_json: bool) -> int:
    print("Open this address in your browser and allow Outpost to post for you:", flush=True)
    print(sign_in.authorization_url, flush=True)
    print(f"{platform.label} then sends your browser to an address that may not load; copy that whole address.",
          file=sys.stderr, flush=True)
    pasted = input("Paste the address your browser shows: ") if sys.stdin.isatty() else sys.stdin.readline()
    connected = asyncio.run(sign_in.finish(pasted))
    return _save(data_dir, connected, as_json)


def cmd_connect_youtube(args: argparse.Namespace, data_dir: Path) -> int:
    from app.auth import youtube

    _check_keyring()
    secret = _read_secret("Google client secret: ")
    base = _api_base(Platform.YOUTUBE)
    sign_in = youtube.YouTubeSignIn(
        args.client_id, secret, timeout=args.timeout, api_base=base or youtube.API_BASE,
        authorize_url=f"{base}/o/oauth2/v2/auth" if base else youtube.AUTHORIZE_URL,
        token_url=f"{base}/token" if base else youtube.TOKEN_URL,
    )

    def open_url(url: str) -> None:
        print("Open this address in your browser to let Outpost upload to your YouTube channel:", flush=True)
        print(url, flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        print("Waiting for your answer in the browser (Ctrl+C cancels)...", file=sys.stderr, flush=True)

    connected = asyncio.run(sign_in.run(open_url))
    connected.settings["privacy"] = args.privacy
    return _save(data_dir, connected, args.json)


def cmd_media_host_set(args: argparse.Namespace, data_dir: Path) -> int:
    from app.platforms import mediahost

    _check_keyring()
    config = mediahost.MediaHostConfig(endpoint=args.endpoint, bucket=args.bucket, region=args.region,
                                       public_base_url=args.public_base_url, prefix=args.prefix)
    key_id = _read_secret("Access key id: ")
    secret = _read_secret("Secret access key: ")
    if not args.no_check:
        url = _check_media_host(mediahost.MediaHost(config, key_id, secret))
        print(f"Stored, read back from {url} and deleted a test file.")
    mediahost.save_config(data_dir, config, key_id, secret)
    print("Media host saved; Instagram posts can now use files on this computer.")
    return 0


def cmd_media_host_show(args: argparse.Namespace, data_dir: Path) -> int:
    from app.platforms import mediahost

    config = mediahost.load_config(data_dir)
    if config is None:
        print("No media host is set up. Add one with `outpost accounts media-host set ...`.")
        return 1
    print(f"endpoint {config.endpoint}\nbucket   {config.bucket}\nregion   {config.region}\n"
          f"public   {config.public_base_url}\nprefix   {config.prefix}\nkeys     in the system keyring")
    return 0


def cmd_media_host_check(args: argparse.Namespace, data_dir: Path) -> int:
    from app.platforms import mediahost

    host = mediahost.MediaHost.from_data_dir(data_dir)
    if host is None:
        raise OutpostError("No media host is set up. Add one with `outpost accounts media-host set ...`.")

    print(f"The media host works: a test file was stored, read back from {_check_media_host(host)} and deleted.")
    return 0


def _check_media_host(host: MediaHost) -> str:
    """Store, read back and delete a test file; the address it was read from, or one clear error."""

    async def check() -> str:
        try:
            return await host.check()
        finally:
            await host.aclose()

    try:
        return asyncio.run(check())
    except PublishError as exc:
        raise OutpostError(exc.message) from None


def cmd_media_host_remove(args: argparse.Namespace, data_dir: Path) -> int:
    from app.platforms import mediahost

    mediahost.remove_config(data_dir)
    print("Media host removed; local files are refused again for Instagram.")
    return 0


# --- X, LinkedIn, Pinterest and TikTok: the person's own developer app -------------------------


def _register_developer_app_connects(connect_sub: Any) -> None:
    """`accounts connect x|linkedin|pinterest|tiktok`: sign in with your own developer app; a secret is read
    from standard input, never from the command line."""
    xc = connect_sub.add_parser("x", help="sign in to X in your browser with your X developer app (OAuth 2.0)")
    xc.add_argument("--client-id", required=True, help="the app's OAuth 2.0 client id")
    xc.add_argument("--secret-stdin", action="store_true",
                    help="also read a client secret from standard input (a \"Web App\", confidential client)")
    xc.add_argument("--port", type=port_number, help="the port of the callback registered for the app, "
                    "http://127.0.0.1:PORT/callback/x (default 8721)")
    lc = connect_sub.add_parser("linkedin", help="sign in to LinkedIn in your browser with your LinkedIn app "
                                "(the client secret is read from standard input)")
    lc.add_argument("--client-id", required=True)
    lc.add_argument("--port", type=port_number, help="the port of the redirect URL registered for the app, "
                    "http://127.0.0.1:PORT/callback/linkedin (default 8722)")
    pc = connect_sub.add_parser("pinterest", help="sign in to Pinterest in your browser with your Pinterest app "
                                "(the app secret is read from standard input)")
    pc.add_argument("--app-id", required=True)
    pc.add_argument("--board", default="", help="the board to pin to, by name or id (default: your first board)")
    pc.add_argument("--port", type=port_number, help="the port of the redirect URI registered for the app, "
                    "http://127.0.0.1:PORT/callback/pinterest (default 8085)")
    tc = connect_sub.add_parser("tiktok", help="sign in to TikTok in your browser with your TikTok app "
                                "(the client secret is read from standard input)")
    tc.add_argument("--client-key", required=True)
    tc.add_argument("--challenge-encoding", choices=["base64url", "hex"], default="base64url",
                    help="how the PKCE challenge is encoded; try hex if TikTok says the challenge is invalid")
    tc.add_argument("--audited", action="store_true", help="your TikTok app has passed TikTok's audit, so posts "
                    "may be public (otherwise TikTok keeps them private)")
    tc.add_argument("--privacy", choices=["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                                          "SELF_ONLY"], help="who sees the videos once the app is audited")
    tc.add_argument("--inbox", action="store_true", help="send videos to your TikTok inbox to finish there")
    for parser in (xc, lc, pc, tc):
        parser.add_argument("--no-browser", action="store_true", help="only print the address to open")
        parser.add_argument("--timeout", type=SIGN_IN_SECONDS, default=300.0, help="seconds to wait for the sign-in")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=cmd_connect_developer_app)


def cmd_connect_developer_app(args: argparse.Namespace, data_dir: Path) -> int:
    from dataclasses import replace

    _check_keyring()
    platform = Platform(args.platform)
    base = _api_base(platform)
    sign_in: Any
    if platform is Platform.X:
        from app.auth import x

        secret = _read_secret("X client secret: ") if args.secret_stdin else ""
        port = args.port or x.DEFAULT_PORT
        register = x.redirect_uri(port)
        sign_in = x.XSignIn(args.client_id, secret, port=port, api_base=base or x.DEFAULT_BASE, timeout=args.timeout,
                            authorize_url=f"{base}/i/oauth2/authorize" if base else x.AUTHORIZE_URL)
    elif platform is Platform.LINKEDIN:
        from app.auth import linkedin

        secret = _read_secret("LinkedIn client secret: ")
        port = args.port or linkedin.DEFAULT_PORT
        register = linkedin.redirect_uri(port)
        sign_in = linkedin.LinkedInSignIn(args.client_id, secret, port=port, api_base=base or linkedin.DEFAULT_BASE,
                                          auth_base=base or linkedin.AUTH_BASE, timeout=args.timeout)
    elif platform is Platform.PINTEREST:
        from app.auth import pinterest

        secret = _read_secret("Pinterest app secret: ")
        port = args.port or pinterest.DEFAULT_PORT
        register = pinterest.redirect_uri(port)
        sign_in = pinterest.PinterestSignIn(args.app_id, secret, board=args.board, port=port, timeout=args.timeout,
                                            api_base=base or pinterest.DEFAULT_BASE,
                                            authorize_url=f"{base}/oauth/" if base else pinterest.AUTHORIZE_URL)
    else:
        from app.auth import tiktok

        secret = _read_secret("TikTok client secret: ")
        register = tiktok.REDIRECT_TO_REGISTER
        sign_in = tiktok.TikTokSignIn(args.client_key, secret, challenge_encoding=args.challenge_encoding,
                                      api_base=base or tiktok.DEFAULT_BASE, timeout=args.timeout,
                                      authorize_url=f"{base}/v2/auth/authorize/" if base else tiktok.AUTHORIZE_URL)

    def open_url(url: str) -> None:
        print(f"Open this address in your browser to let Outpost post for you on {platform.label}:", flush=True)
        print(url, flush=True)
        print(f"(Your {platform.label} app must list this redirect address: {register})", file=sys.stderr, flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        print("Waiting for your answer in the browser (Ctrl+C cancels)...", file=sys.stderr, flush=True)

    connected = asyncio.run(sign_in.run(open_url))
    if platform is Platform.TIKTOK:
        extra: dict[str, object] = {"audited": True} if args.audited else {}
        if args.privacy:
            extra["privacy_level"] = args.privacy
        if args.inbox:
            extra["post_mode"] = "inbox"
        connected = replace(connected, settings={**connected.settings, **extra})
        if not args.audited:
            print("TikTok keeps posts from apps it has not audited private (only you can see them).", file=sys.stderr)
    return _save(data_dir, connected, args.json)
