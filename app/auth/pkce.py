"""PKCE S256 (RFC 7636) and one-time `state` values, bound to the provider that issued them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from app.core.errors import OutpostError
from app.core.redact import register_secret


def new_verifier() -> str:
    """43 unreserved characters from 32 random bytes, fresh for every flow."""
    verifier = secrets.token_urlsafe(32)
    register_secret(verifier)
    return verifier


def challenge_s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding. Outpost never sends `plain`."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class StateMismatch(OutpostError):
    """A callback whose `state` was not issued for this provider and flow."""


@dataclass
class PendingAuthorization:
    """One sign-in in progress: its provider, one-time state, PKCE verifier and redirect URI."""

    provider: str
    redirect_uri: str
    state: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    verifier: str = field(default_factory=new_verifier)
    created: float = field(default_factory=time.monotonic)
    used: bool = False
    issuer: str = ""  # when set, an `iss` in the answer must equal it (RFC 9207 mix-up defence)

    @property
    def challenge(self) -> str:
        return challenge_s256(self.verifier)

    def matches(self, provider: str, state: str | None, issuer: str | None = None) -> bool:
        return (
            not self.used
            and provider == self.provider
            and state is not None
            and hmac.compare_digest(state.encode(), self.state.encode())
            and (not self.issuer or issuer is None or issuer.rstrip("/") == self.issuer.rstrip("/"))
        )

    def consume(self, provider: str, state: str | None, issuer: str | None = None) -> None:
        """Accept `state` exactly once, for this provider only; raise StateMismatch otherwise."""
        if not self.matches(provider, state, issuer):
            raise StateMismatch(
                "This sign-in answer does not belong to the sign-in Outpost started "
                f"for {self.provider}. Start the connection again."
            )
        self.used = True
