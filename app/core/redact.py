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


# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates and the line/paragraph separators:
# each can move the cursor, retitle a terminal (OSC), forge a row or reorder what a person reads.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_KEEP_NEWLINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str, *, keep_newlines: bool = False) -> str:
    """`text` safe to print: control characters (ESC/OSC, CR, C1, bidi overrides) shown as visible
    escapes such as \\e or \\u202e, so text from a post or a platform cannot rewrite the screen.

    With `keep_newlines`, line feeds stay (the caller indents the lines that follow)."""
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, text)
