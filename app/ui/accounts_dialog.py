"""Accounts: connect, reconnect, choose the default and remove.

Sign-ins run as asyncio tasks on the window's loop (qasync); the dialog never runs a nested
event loop. The browser sign-in shows a Cancel button while Outpost waits for the answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx
from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.auth import bluesky, facebook, instagram, linkedin, meta, pinterest, threads, tiktok, x, youtube
from app.auth.accounts import ConnectedAccount
from app.auth.disconnect import forget_account
from app.auth.mastodon import MastodonSignIn
from app.core.errors import OutpostError
from app.core.models import AccountInfo, AccountStatus, Platform
from app.platforms.threads import DEFAULT_BASE as THREADS_BASE
from app.store.views import AccountView
from app.ui import icons
from app.ui.widgets import button, muted, section

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

log = logging.getLogger("outpost.ui.accounts")

# Signed in with the person's own developer app (client id and secret); they share one form.
DEVELOPER_APP = (Platform.X, Platform.LINKEDIN, Platform.PINTEREST, Platform.TIKTOK, Platform.YOUTUBE)
CONNECTABLE = (Platform.BLUESKY, Platform.MASTODON, Platform.THREADS, Platform.INSTAGRAM, Platform.FACEBOOK,
               *DEVELOPER_APP)
HOW = {
    Platform.BLUESKY: "Sign in with your handle and an app password (Bluesky: Settings › Privacy and security › "
                      "App passwords); your main password is never needed.",
    Platform.MASTODON: "Outpost opens your server's sign-in page in your browser; approve access there and "
                       "come back here.",
    Platform.THREADS: "Threads only sends sign-ins to secure web addresses: paste a long-lived access token from "
                      "Meta's developer tools, or sign in with your own Meta app.",
    Platform.X: f"Enter your X developer app's OAuth 2.0 client id (and secret for a Web App); its callback must be "
                f"{x.redirect_uri()}. Outpost then opens X's sign-in in your browser.",
    Platform.LINKEDIN: f"Enter your LinkedIn app's client id and secret; its redirect URL must be "
                       f"{linkedin.redirect_uri()}. The sign-in lasts 60 days; Outpost reminds you to reconnect.",
    Platform.PINTEREST: f"Enter your Pinterest app id and secret; its redirect URI must be {pinterest.redirect_uri()}. "
                        "Pins go to the board you name (or your first board).",
    Platform.TIKTOK: f"Enter your TikTok app's client key and secret; its redirect URI must be "
                     f"{tiktok.REDIRECT_TO_REGISTER}. Until TikTok audits your app, videos are posted privately.",
    Platform.INSTAGRAM: "Instagram only sends sign-ins to secure web addresses: paste a long-lived token for your "
                        "professional account from Meta's developer dashboard, or sign in with your own Meta app.",
    Platform.FACEBOOK: "Facebook only sends sign-ins to secure web addresses: paste a token from Meta's Graph API "
                       "Explorer, or sign in with your own Meta app; name the Page if you manage several.",
    Platform.YOUTUBE: "Enter the client id and secret of your Google Cloud \"Desktop app\" OAuth client. Google "
                      "answers on this computer at http://127.0.0.1:<any port>/callback/youtube, so there is "
                      "nothing to register.",
}
class _AccountList(QListWidget):
    """A list that asks for room for about five accounts and grows with the dialog."""

    def sizeHint(self) -> QSize:
        return QSize(480, 140)


def _left(widget: QWidget) -> QWidget:
    """`widget` at its natural width, at the left of its row."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(widget)
    row.addStretch(1)
    return holder


def how_with_meta_app(platform: Platform) -> str:
    brand = "Facebook" if platform is Platform.FACEBOOK else platform.label
    return (f"With your own Meta app: Outpost opens {brand}'s sign-in page, and you paste back the "
            "https address your browser lands on.")


class MetaForm(QWidget):
    """Threads, Instagram or Facebook: paste a token, or sign in with your own Meta app and paste
    back the https address the browser lands on (Meta sends sign-ins to https addresses only)."""

    def __init__(self, platform: Platform, extra_rows: list[tuple[str, QWidget]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.platform = platform
        self.way = QComboBox()
        self.way.addItems(["Paste an access token", "Sign in with my own Meta app"])
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Paste the access token")
        self.app_id, self.app_secret, self.redirect = QLineEdit(), QLineEdit(), QLineEdit()
        self.app_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.redirect.setText(meta.default_redirect(platform))
        self.open_button = button("Open sign-in page", "external")
        self.open_row = _left(self.open_button)
        self.pasted_address = QLineEdit()
        self.pasted_address.setPlaceholderText("Paste the whole address your browser shows after you allow access")
        self.sign_in: meta.MetaBrowserSignIn | None = None
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        for label, field in (("Method", self.way), ("Access token", self.token), *extra_rows,
                             ("App id", self.app_id), ("App secret", self.app_secret),
                             ("Redirect address", self.redirect), ("", self.open_row),
                             ("Address shown", self.pasted_address)):
            self.form.addRow(label, field)
        self.way.currentIndexChanged.connect(self._way_changed)
        self._way_changed()

    def with_app(self) -> bool:
        return self.way.currentIndex() == 1

    def _way_changed(self) -> None:
        with_app = self.with_app()
        self.form.setRowVisible(self.token, not with_app)
        for field in (self.app_id, self.app_secret, self.redirect, self.open_row, self.pasted_address):
            self.form.setRowVisible(field, with_app)

    def how(self) -> str:
        return how_with_meta_app(self.platform) if self.with_app() else HOW[self.platform]

    def clear_secrets(self) -> None:
        self.token.clear()
        self.app_secret.clear()
        self.pasted_address.clear()
        self.sign_in = None


class AccountsDialog(QDialog):
    def __init__(self, runtime: Runtime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self._task: asyncio.Task[None] | None = None
        self._sign_in: MastodonSignIn | DeveloperAppSignIn | None = None
        # The system browser, never an embedded view (reliability.md O1); tests put a stand-in here.
        self.open_url: Callable[[str], object] = lambda url: QDesktopServices.openUrl(QUrl(url))
        self.setWindowTitle("Accounts")
        self.setMinimumSize(QSize(640, 520))

        self.accounts = _AccountList()
        self.accounts.setIconSize(QSize(20, 20))
        self.accounts.setAlternatingRowColors(True)
        self.accounts.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.reconnect_button = button("Reconnect", "refresh")
        self.default_button = button("Make default", "check")
        self.remove_button = button("Remove", "trash", danger=True)
        self.reconnect_button.clicked.connect(self.reconnect_selected)
        self.default_button.clicked.connect(self.make_selected_default)
        self.remove_button.clicked.connect(self.remove_selected)

        self.platform = QComboBox()
        for platform in CONNECTABLE:
            self.platform.addItem(icons.platform_icon(platform), platform.label, platform)
        self.how = muted()
        self.forms = QStackedWidget()
        self.handle, self.app_password, self.pds = QLineEdit(), QLineEdit(), QLineEdit()
        self.app_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.handle.setPlaceholderText("alice.bsky.social")
        self.pds.setPlaceholderText("bsky.social (leave empty unless you host your own)")
        self.server = QLineEdit()
        self.server.setPlaceholderText("mastodon.social")
        for rows in ((("Handle", self.handle), ("App password", self.app_password), ("Server", self.pds)),
                     (("Server", self.server),)):
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            for label, field in rows:
                form.addRow(label, field)
            self.forms.addWidget(page)
        self.fb_page = QLineEdit()
        self.fb_page.setPlaceholderText("The Page's name or id (only if you manage several)")
        self.media_host_button = button("Media host…", "external", flat=True)  # local files for Instagram
        self.media_host_button.clicked.connect(self.open_media_host)
        self.meta_forms = {  # pages 2, 3 and 4: CONNECTABLE's Threads, Instagram and Facebook
            Platform.THREADS: MetaForm(Platform.THREADS, []),
            Platform.INSTAGRAM: MetaForm(Platform.INSTAGRAM, [("Local files", _left(self.media_host_button))]),
            Platform.FACEBOOK: MetaForm(Platform.FACEBOOK, [("Page", self.fb_page)]),
        }
        for meta_form in self.meta_forms.values():
            self.forms.addWidget(meta_form)
            meta_form.way.currentIndexChanged.connect(self._meta_way_changed)
            meta_form.open_button.clicked.connect(lambda _c=False, f=meta_form: self.open_meta_sign_in(f))
        threads_form = self.meta_forms[Platform.THREADS]
        # The Threads form's fields by their earlier names (tests and reconnect use them).
        self.threads_way, self.token, self.pasted_address = threads_form.way, threads_form.token, threads_form.pasted_address
        self.meta_app_id, self.meta_app_secret = threads_form.app_id, threads_form.app_secret
        self.meta_redirect, self.open_meta_button = threads_form.redirect, threads_form.open_button
        self.ig_token = self.meta_forms[Platform.INSTAGRAM].token
        self.fb_token = self.meta_forms[Platform.FACEBOOK].token
        self.platform.currentIndexChanged.connect(self._platform_changed)
        self.client_id, self.client_secret, self.board = QLineEdit(), QLineEdit(), QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.board.setPlaceholderText("The board to pin to (empty: your first board)")
        app_page = QWidget()
        app_form = self._app_form = QFormLayout(app_page)
        app_form.setContentsMargins(0, 0, 0, 0)
        for label, field in (("Client id", self.client_id), ("Client secret", self.client_secret), ("Board", self.board)):
            app_form.addRow(label, field)
        self._developer_app_page = self.forms.addWidget(app_page)

        self.connect_button = button("Connect", "plus", primary=True)
        self.connect_button.clicked.connect(self.start_connect)
        self.cancel_button = button("Cancel sign-in", "close")
        self.cancel_button.clicked.connect(self.cancel_connect)
        self.cancel_button.hide()
        self.copy_button = button("Copy address", "copy", flat=True)
        self.copy_button.clicked.connect(self._copy_address)
        self.copy_button.hide()
        self._address = ""
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = button("Close")
        close.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(section("Connected accounts"))
        layout.addWidget(muted("Passwords and tokens stay in your system keyring, never in Outpost's database."))
        layout.addWidget(self.accounts, 1)
        row = QHBoxLayout()
        for b in (self.reconnect_button, self.default_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.remove_button)
        layout.addLayout(row)
        layout.addSpacing(8)
        layout.addWidget(section("Add an account"))
        layout.addWidget(self.platform)
        layout.addWidget(self.how)
        layout.addWidget(self.forms)
        actions = QHBoxLayout()
        actions.addWidget(self.connect_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.copy_button)
        actions.addStretch(1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self._platform_changed()
        self.reload()

    # ---- the list ------------------------------------------------------------------------
    def reload(self) -> None:
        selected = self.selected()
        self.accounts.clear()
        for account in self.runtime.planner.accounts():
            name = account.display_name or account.handle
            # Each part once: the Sandbox account is "Sandbox", not "Sandbox   sandbox · Sandbox".
            parts = [name] + [p for p in (account.handle, account.platform.label) if p.lower() != name.lower()]
            text = parts[0] + ("   " + " · ".join(parts[1:]) if parts[1:] else "")
            if account.is_default:
                text += "   (default)"
            if account.status is AccountStatus.NEEDS_RECONNECT:
                text += "   — needs reconnecting"
            item = QListWidgetItem(icons.platform_icon(account.platform), text)
            item.setData(Qt.ItemDataRole.UserRole, account.id)
            self.accounts.addItem(item)
            if selected is not None and account.id == selected.id:
                self.accounts.setCurrentItem(item)
        self._update_buttons()

    def selected(self) -> AccountView | None:
        item = self.accounts.currentItem()
        if item is None:
            return None
        account_id = int(item.data(Qt.ItemDataRole.UserRole))
        return next((a for a in self.runtime.planner.accounts() if a.id == account_id), None)

    def _update_buttons(self) -> None:
        account = self.selected()
        self.reconnect_button.setEnabled(account is not None and account.platform in CONNECTABLE)
        self.default_button.setEnabled(account is not None and not account.is_default)
        self.remove_button.setEnabled(account is not None)

    def make_selected_default(self) -> None:
        account = self.selected()
        if account is not None:
            self.runtime.planner.set_default_account(account.id)
            self.reload()

    def reconnect_selected(self) -> None:
        account = self.selected()
        if account is None or account.platform not in CONNECTABLE:
            return
        self.platform.setCurrentIndex(CONNECTABLE.index(account.platform))
        if account.platform in DEVELOPER_APP:
            try:  # the app's credentials were entered once and kept in the keyring: reuse them
                stored = self.runtime.secrets.get(account.id) or {}
            except OutpostError:
                stored = {}
            self.client_id.setText(stored.get("client_id") or stored.get("client_key") or "")
            self.client_secret.setText(stored.get("client_secret", ""))
            if account.platform is Platform.PINTEREST:
                self.board.setText(str(account.settings.get("board_name") or ""))
            if self.client_id.text():
                self.start_connect()
            else:
                self.client_id.setFocus()
                self._say(f"Enter your {account.platform.label} app's client id and secret, then sign in again.")
        elif account.platform is Platform.BLUESKY:
            self.handle.setText(account.handle)
            self.pds.setText(account.server)
            self.app_password.setFocus()
            self._say(f"Enter a new app password for {account.handle}, then Connect.")
        elif account.platform is Platform.MASTODON:
            self.server.setText(account.server)
            self.start_connect()
        else:
            meta_form = self.meta_forms[account.platform]
            (meta_form.app_id if meta_form.with_app() else meta_form.token).setFocus()
            self._say(f"Sign in again for {account.handle}: paste a new access token, or use your Meta app.")

    def remove_selected(self) -> None:
        account = self.selected()
        if account is None:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove account",
                          f"Remove {account.display_name or account.handle} ({account.platform.label})? Its "
                          "unpublished posts are cancelled and its sign-in is deleted from the keyring.",
                          QMessageBox.StandardButton.Cancel, self)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.buttonClicked.connect(lambda clicked: self._run(self._remove(account)) if clicked is remove else None)
        box.open()  # never exec(): the loop keeps running

    async def _remove(self, account: AccountView) -> None:
        cancelled = self.runtime.planner.remove_account(account.id)
        info = AccountInfo(account.id, account.platform, account.handle, account.display_name, account.timezone,
                           account.server, dict(account.settings))
        notes = await forget_account(info, self.runtime.secrets, api_base=dict(self.runtime.context.api_base))
        self.reload()
        self._say(" ".join([f"Removed {account.handle}; {cancelled} unpublished post(s) cancelled.", *notes]))

    # ---- connecting ---------------------------------------------------------------------
    def _platform_changed(self) -> None:
        platform = self.current_platform()
        self.forms.setCurrentIndex(self._developer_app_page if platform in DEVELOPER_APP else CONNECTABLE.index(platform))
        for i in range(self.forms.count()):  # size the stack to the page shown, not the tallest one
            policy = QSizePolicy.Policy.Preferred if i == self.forms.currentIndex() else QSizePolicy.Policy.Ignored
            page = self.forms.widget(i)
            if page is not None:
                page.setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.forms.updateGeometry()
        self._fit()
        self._app_form.setRowVisible(self.board, platform is Platform.PINTEREST)  # each form shows its own fields
        self.how.setText(self.meta_forms[platform].how() if platform in self.meta_forms else HOW[platform])
        if self._task is None or self._task.done():
            self._say("")  # a message about the platform shown before would now be about the wrong one
        browser = platform is Platform.MASTODON or platform in DEVELOPER_APP
        self.connect_button.setText("Sign in with browser" if browser else "Connect")

    def current_platform(self) -> Platform:
        return Platform(self.platform.currentData())

    def start_connect(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._run(self._connect(self.current_platform()))

    def cancel_connect(self) -> None:
        if self._sign_in is not None:
            self._sign_in.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._busy(False)
        self._say("Sign-in cancelled.")

    def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.ensure_future(coro)

    async def _connect(self, platform: Platform) -> None:
        self._busy(True)
        try:
            self.runtime.secrets.get(0)  # no keyring: say so before anything is sent
            connected = await self._sign_in_to(platform)
            account = self.runtime.planner.add_account(
                connected.platform, connected.handle, display_name=connected.display_name,
                server=connected.server, settings=connected.settings)
            try:
                self.runtime.secrets.put(account.id, connected.secrets)
            except OutpostError:
                self.runtime.planner.remove_account(account.id)
                raise
            self.app_password.clear()
            for meta_form in self.meta_forms.values():
                meta_form.clear_secrets()
            self.reload()
            self._say(f"Connected {connected.label}.")
        except asyncio.CancelledError:
            self._say("Sign-in cancelled.")
        except OutpostError as exc:
            self._say(str(exc), error=True)  # the auth layer's words: they name the server and what to do
        except httpx.TransportError as exc:
            self._say(unreachable(exc, platform), error=True)
        except Exception as exc:
            log.exception("connecting %s failed", platform.value)
            self._say(f"Connecting failed unexpectedly ({type(exc).__name__}). Details are in the log.", error=True)
        finally:
            self._sign_in = None
            self._busy(False)

    async def _sign_in_to(self, platform: Platform) -> ConnectedAccount:
        api_base = self.runtime.context.api_base
        if platform is Platform.BLUESKY:
            service = self.pds.text().strip() or api_base.get("bluesky") or bluesky.DEFAULT_SERVICE
            if "://" not in service:
                service = "https://" + service
            self._say("Signing in to Bluesky…")
            return await bluesky.sign_in(self.handle.text(), self.app_password.text(), service=service)
        if platform in self.meta_forms:
            meta_form = self.meta_forms[platform]
            if meta_form.with_app():
                if meta_form.sign_in is None:
                    raise OutpostError("Open the sign-in page first, allow access, then paste the address you land on.")
                self._say(f"Finishing the {platform.label} sign-in…")
                return await meta_form.sign_in.finish(meta_form.pasted_address.text())
            token, base = meta_form.token.text(), api_base.get(platform.value)
            meta_form.token.clear()
            self._say(f"Checking the token with {platform.label}…")
            if platform is Platform.THREADS:
                return await threads.account_from_token(token, api_base=base or THREADS_BASE)
            if platform is Platform.INSTAGRAM:
                return await instagram.account_from_token(token, api_base=base or instagram.DEFAULT_BASE)
            return await facebook.account_from_token(token, page=self.fb_page.text().strip(),
                                                     api_base=base or facebook.DEFAULT_BASE)
        if platform in DEVELOPER_APP:
            self._sign_in = developer_app_sign_in(platform, self.client_id.text(), self.client_secret.text(),
                                                  self.board.text(), api_base.get(platform.value, ""))
            connected = await self._sign_in.run(self._open_browser)
            self.client_secret.clear()
            return connected
        self._sign_in = MastodonSignIn(self.server.text())
        return await self._sign_in.run(self._open_browser)

    def _meta_way_changed(self) -> None:
        platform = self.current_platform()
        if platform in self.meta_forms:
            self.how.setText(self.meta_forms[platform].how())
        self._fit()

    def _fit(self) -> None:
        """Grow the dialog when the form shown needs more room than it has (never squash fields)."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.minimumSize().height() + 24  # style sheet paddings are not in the minimum
        if self.height() < needed:
            self.resize(self.width(), needed)

    def open_threads_sign_in(self) -> None:
        self.open_meta_sign_in(self.meta_forms[Platform.THREADS])

    def open_meta_sign_in(self, meta_form: MetaForm) -> None:
        app_id, secret = meta_form.app_id.text().strip(), meta_form.app_secret.text().strip()
        redirect = meta_form.redirect.text().strip()
        if not app_id or not secret or not redirect.startswith("https://"):
            self._say(f"Enter your Meta app's {meta_form.platform.label} app id, its secret and its https redirect "
                      "address.", error=True)
            return
        meta_form.sign_in = meta.browser_sign_in(
            meta_form.platform, app_id, secret, redirect, page=self.fb_page.text().strip(),
            base=self.runtime.context.api_base.get(meta_form.platform.value, ""))
        self.open_url(meta_form.sign_in.authorization_url)
        self._say("Allow access in your browser. The page it lands on may not load: copy its whole address "
                  "into “Address shown”, then Connect.")

    def _open_browser(self, url: str) -> None:
        self._address = url
        self.copy_button.show()
        self._say("Waiting for your answer in the browser. If no browser tab opened, use Copy address and "
                  "paste it into your browser.")
        self.open_url(url)

    def open_media_host(self) -> None:
        from app.ui.media_host_dialog import MediaHostDialog

        MediaHostDialog(self.runtime.data_dir, self).open()  # never exec(): the loop keeps running

    def _copy_address(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None and self._address:
            clipboard.setText(self._address)
            self._say("Address copied. Paste it into your browser; Outpost is waiting for the answer.")

    def _busy(self, busy: bool) -> None:
        self.connect_button.setEnabled(not busy)
        self.platform.setEnabled(not busy)
        self.forms.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        if not busy:
            self.copy_button.hide()
            self._address = ""

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)  # the style sheet's error colour suits light and dark
        self.status.style().polish(self.status)
        self.status.setVisible(bool(text))
        self._fit()

    def done(self, result: int) -> None:
        if self._task is not None and not self._task.done():
            self.cancel_connect()
        super().done(result)


def unreachable(exc: httpx.TransportError, platform: Platform) -> str:
    """A connection that failed before any answer, in words: which server, and what to check."""
    try:
        url = exc.request.url
        server = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    except RuntimeError:  # an error raised without a request
        server = f"{platform.label}'s server"
    if isinstance(exc, httpx.TimeoutException):
        why = "it did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        why = "no connection could be made"
    else:
        why = "the connection broke off"
    return (f"Could not reach {server}: {why}. Check the address and your internet connection, "
            "then try again.")


DeveloperAppSignIn = (x.XSignIn | linkedin.LinkedInSignIn | pinterest.PinterestSignIn | tiktok.TikTokSignIn
                      | youtube.YouTubeSignIn)


def developer_app_sign_in(platform: Platform, client_id: str, secret: str, board: str, base: str) -> DeveloperAppSignIn:
    """The browser sign-in for X, LinkedIn, Pinterest or TikTok with the person's own app (`base`: test servers)."""
    if platform is Platform.X:
        return x.XSignIn(client_id, secret, api_base=base or x.DEFAULT_BASE,
                         authorize_url=f"{base}/i/oauth2/authorize" if base else x.AUTHORIZE_URL)
    if platform is Platform.LINKEDIN:
        return linkedin.LinkedInSignIn(client_id, secret, api_base=base or linkedin.DEFAULT_BASE,
                                       auth_base=base or linkedin.AUTH_BASE)
    if platform is Platform.PINTEREST:
        return pinterest.PinterestSignIn(client_id, secret, board=board, api_base=base or pinterest.DEFAULT_BASE,
                                         authorize_url=f"{base}/oauth/" if base else pinterest.AUTHORIZE_URL)
    if platform is Platform.YOUTUBE:
        return youtube.YouTubeSignIn(client_id, secret, api_base=base or youtube.API_BASE,
                                     authorize_url=f"{base}/o/oauth2/v2/auth" if base else youtube.AUTHORIZE_URL,
                                     token_url=f"{base}/token" if base else youtube.TOKEN_URL)
    return tiktok.TikTokSignIn(client_id, secret, api_base=base or tiktok.DEFAULT_BASE,
                               authorize_url=f"{base}/v2/auth/authorize/" if base else tiktok.AUTHORIZE_URL)
