"""Remove secrets from text before it reaches a log, an exception, an export or the screen."""

from __future__ import annotations

import re

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|dpop|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|code_verifier|id_token|fb_exchange_token|"
            r"input_token|password|app_password|accessJwt|refreshJwt|api_key|token|secret)"
            r"(\"?\s*[=:]\s*\"?)([^\s&\"',;}]+)"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"([?&]code=)[^\s&\"']+"), r"\1[redacted]"),
    (re.compile(r"(?i)(idempotency-key\"?\s*[:=]\s*\"?)[^\s\"',;}]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"), r"\1[redacted]@"),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"), "[redacted-jwt]"),
]

_known_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so it is scrubbed wherever it appears, whatever its shape."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "[redacted]")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def one_line(text: str) -> str:
    """Neutralise CR/LF so a value cannot forge a log line."""
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
