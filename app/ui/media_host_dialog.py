"""Media host settings: the S3-compatible bucket where Outpost puts local files for Instagram.

"Test and save" stores, reads back and deletes a small file before anything is saved; the keys
go to the system keyring only (app.platforms.mediahost). Runs its check as an asyncio task on
the window's loop; never a nested event loop.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.core.errors import OutpostError, PublishError
from app.platforms import mediahost
from app.ui.widgets import button, muted

log = logging.getLogger("outpost.ui.mediahost")


class MediaHostDialog(QDialog):
    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self._task: asyncio.Task[None] | None = None
        self.setWindowTitle("Media host")
        config = mediahost.load_config(data_dir)
        self.endpoint, self.bucket, self.region = QLineEdit(), QLineEdit(), QLineEdit()
        self.public_base_url, self.key_id, self.secret = QLineEdit(), QLineEdit(), QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.endpoint.setPlaceholderText("https://s3.eu-central-1.amazonaws.com")
        self.region.setPlaceholderText("us-east-1")
        self.public_base_url.setPlaceholderText("https://media.example.com")
        if config is not None:
            self.endpoint.setText(config.endpoint)
            self.bucket.setText(config.bucket)
            self.region.setText(config.region)
            self.public_base_url.setText(config.public_base_url)
        form = QFormLayout()
        for label, field in (("Endpoint", self.endpoint), ("Bucket", self.bucket), ("Region", self.region),
                             ("Public address", self.public_base_url), ("Access key id", self.key_id),
                             ("Secret access key", self.secret)):
            form.addRow(label, field)
        self.save_button = button("Test and save", "check", primary=True)
        self.save_button.clicked.connect(self.start_save)
        self.remove_button = button("Remove", "trash", danger=True)
        self.remove_button.clicked.connect(self.remove)
        self.remove_button.setEnabled(config is not None)
        close = button("Close")
        close.clicked.connect(self.accept)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(muted("Instagram fetches media from public web addresses only. With a bucket of your own "
                               "(S3, R2, B2, MinIO…), Outpost uploads files from this computer just before "
                               "publishing and deletes them afterwards. The keys stay in your system keyring."))
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        layout.addWidget(self.status)

    def start_save(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.save())

    async def save(self) -> None:
        self.save_button.setEnabled(False)
        try:
            config = mediahost.MediaHostConfig(
                endpoint=self.endpoint.text().strip(), bucket=self.bucket.text().strip(),
                region=self.region.text().strip() or "us-east-1", public_base_url=self.public_base_url.text().strip())
            key_id, secret = self.key_id.text().strip(), self.secret.text().strip()
            if not key_id or not secret:
                raise OutpostError("Enter the access key id and secret access key.")
            self._say("Storing a test file…")
            host = mediahost.MediaHost(config, key_id, secret)
            try:
                url = await host.check()
            finally:
                await host.aclose()
            mediahost.save_config(self.data_dir, config, key_id, secret)
            self.secret.clear()
            self.remove_button.setEnabled(True)
            self._say(f"Saved. A test file was stored, read back from {url} and deleted.")
        except PublishError as exc:
            self._say(exc.message, error=True)
        except OutpostError as exc:
            self._say(str(exc), error=True)
        except Exception as exc:
            log.exception("saving the media host failed")
            self._say(f"Saving failed unexpectedly ({type(exc).__name__}). Details are in the log.", error=True)
        finally:
            self.save_button.setEnabled(True)

    def remove(self) -> None:
        try:
            mediahost.remove_config(self.data_dir)
        except OutpostError as exc:
            self._say(str(exc), error=True)
            return
        self.remove_button.setEnabled(False)
        self._say("Media host removed; local files are refused again for Instagram.")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("role", "error" if error else "muted")
        self.status.style().unpolish(self.status)  # the style sheet's error colour suits light and dark
        self.status.style().polish(self.status)
