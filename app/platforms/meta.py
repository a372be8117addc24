"""Meta's Graph error envelope, shared by Threads, Facebook Pages and Instagram (platforms.md §6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.errors import PublishError
from app.core.models import ErrorKind
from app.platforms.http import retry_after_from, status_error

# A multi-step object is not ready yet: Threads (24/4279009) and Instagram (9007/2207027).
NOT_READY = frozenset({(24, 4279009), (9007, 2207027)})
_RATE_CODES = frozenset({4, 17, 32, 341, 613})
_RATE_SUBCODES = frozenset({1390008})


@dataclass(frozen=True)
class GraphError:
    message: str
    type: str = ""
    code: int | None = None
    subcode: int | None = None
    is_transient: bool = False
    user_title: str = ""
    user_msg: str = ""
    fbtrace_id: str = ""

    @property
    def not_ready(self) -> bool:
        return (self.code, self.subcode) in NOT_READY

    @property
    def shown(self) -> str:
        """The most helpful text Meta gave: the user-facing message when there is one."""
        return self.user_msg or self.message


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_graph_error(body: bytes | str | dict[str, Any] | None) -> GraphError | None:
    """The `error` object of a Graph response, or None when the body is not that envelope."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None
    e = data["error"]
    return GraphError(
        message=str(e.get("message") or ""),
        type=str(e.get("type") or ""),
        code=_int(e.get("code")),
        subcode=_int(e.get("error_subcode")),
        is_transient=bool(e.get("is_transient")),
        user_title=str(e.get("error_user_title") or ""),
        user_msg=str(e.get("error_user_msg") or ""),
        fbtrace_id=str(e.get("fbtrace_id") or ""),
    )


def classify_graph_error(
    err: GraphError, *, http_status: int | None, create: bool, platform: str, retry_after: float | None = None,
) -> PublishError:
    """Outpost's ErrorKind for a Graph error (platforms.md §6, "Classification")."""
    code, sub = err.code, err.subcode
    ref = f"Meta error {code}" + (f"/{sub}" if sub else "")
    text = f"{platform}: {err.shown} ({ref})"
    if code == 190 or code == 10 or (code is not None and 200 <= code <= 299):
        return PublishError(
            ErrorKind.AUTH, f"{platform} no longer accepts this account's sign-in or permissions. "
            f"Reconnect the account. ({err.shown}; {ref})", http_status=http_status, code=str(code),
        )
    if code in _RATE_CODES or (code is not None and 80001 <= code <= 80014) or sub in _RATE_SUBCODES:
        return PublishError(
            ErrorKind.RATE_LIMIT, f"{platform} asks Outpost to slow down. {text}",
            http_status=http_status, retry_after=retry_after if retry_after is not None else 600.0, code=str(code),
        )
    if code == 506:
        return PublishError(
            ErrorKind.UNKNOWN, f"{platform} says this is a duplicate: it was probably published already. {text}",
            http_status=http_status, code="506",
        )
    if err.not_ready:
        return PublishError(
            ErrorKind.TRANSIENT, f"{platform} is still processing the media; Outpost will try again. ({ref})",
            http_status=http_status, retry_after=retry_after if retry_after is not None else 60.0,
            code=f"{code}/{sub}",
        )
    if code in (1, 2) or err.is_transient:
        kind = ErrorKind.UNKNOWN if create else ErrorKind.TRANSIENT
        return PublishError(kind, f"{platform} had a temporary problem. {text}", http_status=http_status, code=str(code))
    return PublishError(ErrorKind.PERMANENT, text, http_status=http_status, code=str(code))


def graph_response_error(response: httpx.Response, *, create: bool, platform: str) -> PublishError:
    """A PublishError for a failed Graph response, using the envelope when there is one."""
    err = parse_graph_error(response.content)
    if err is None:
        return status_error(response, create=create, platform=platform)
    if response.status_code >= 500 and create and err.code not in (190, 506):
        return status_error(response, create=create, platform=platform, message=err.shown)
    return classify_graph_error(
        err, http_status=response.status_code, create=create, platform=platform,
        retry_after=retry_after_from(response.headers),
    )


def usage_wait(headers: httpx.Headers) -> tuple[float | None, bool]:
    """What Meta's usage headers say: (seconds until access returns, whether a budget is used up).

    `X-App-Usage` and `X-Page-Usage` carry `{"call_count", "total_cputime", "total_time"}` in
    percent; `X-Business-Use-Case-Usage` maps an id to a list of such objects plus
    `estimated_time_to_regain_access` in minutes (platforms.md §6, "Limits").
    """
    wait: float | None = None
    exhausted = False
    for name in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = []
        if isinstance(data, dict) and any(isinstance(v, list) for v in data.values()):
            for value in data.values():
                entries.extend(value if isinstance(value, list) else [])
        else:
            entries.append(data)
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                if isinstance(entry.get(key), int | float) and entry[key] >= 100:
                    exhausted = True
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and minutes > 0:
                wait = max(wait or 0.0, float(minutes) * 60.0)
    return wait, exhausted


def meta_response_error(response: httpx.Response, *, create: bool, platform: str) -> PublishError:
    """`graph_response_error`, with a rate limit's wait taken from Meta's usage headers."""
    error = graph_response_error(response, create=create, platform=platform)
    if error.kind is ErrorKind.RATE_LIMIT:
        wait, _ = usage_wait(response.headers)
        if wait is not None:
            error.retry_after = wait
    return error
