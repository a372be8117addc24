"""Checking Meta Graph API calls and answers against the official `facebook-business` SDK.

The SDK is generated from Meta's own API definitions: each node and edge method (Page.create_feed,
IGUserForIGOnlyAPI.create_media, ...) builds a `FacebookRequest` carrying the `param_types` and
enums that call accepts, and the class of object it answers with, whose `Field` names and
`_field_types` say what an answer may hold. Called with `pending=True` the SDK only builds the
request, so nothing leaves the machine. Where the SDK has no definition (OAuth token endpoints,
Threads) a `Documented` table transcribed from Meta's pages stands in, with its source.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from typing import Any

from facebook_business.adobjects.abstractobject import AbstractObject
from facebook_business.api import FacebookAdsApi, FacebookRequest
from facebook_business.session import FacebookSession

from tests.fakes.server import Request, Response

SDK = f"facebook-business {version('facebook-business')} (Graph API {FacebookAdsApi.API_VERSION})"
_API = FacebookAdsApi(FacebookSession("0", "contract-check", "contract-check"))  # never sends: requests stay pending
ALWAYS = {"access_token", "fields"}  # accepted by every Graph call (the SDK adds them itself)
# Cursor paging on every edge read (the SDK's Cursor sends `summary` and `after`; Graph's "Paginated Results")
PAGING = {"limit", "after", "before", "summary"}
# What FacebookRequestError reads from an error body, plus the fields Graph's "Handling Errors" page shows
ERROR_KEYS = {"message": str, "type": str, "code": int, "error_subcode": int, "is_transient": bool,
              "error_user_title": str, "error_user_msg": str, "fbtrace_id": str, "error_data": (dict, str)}


@dataclass(frozen=True)
class Documented:
    """A call the SDK does not define, transcribed from Meta's documentation (`source`)."""

    source: str
    params: dict[str, str]  # name -> a type the SDK's vocabulary uses (string, bool, unsigned int, enum:A|B ...)
    fields: dict[str, str] = field(default_factory=dict)  # answer fields -> type
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """One Graph call Outpost makes: its method, path (a regular expression after the version) and contract."""

    method: str
    path: str
    sdk: tuple[type, str] | None = None  # (SDK class, method name) when the SDK defines it
    doc: Documented | None = None
    answer: str = "node"  # node | list | created (`{"id", ...}`) | skip
    created: tuple[str, ...] = ("id",)
    answer_class: Callable[[dict[str, str]], type] | None = None  # overrides the SDK's target class
    extra: dict[str, str] = field(default_factory=dict)  # parameters allowed beyond the SDK's, with their source
    values: dict[str, str] = field(default_factory=dict)  # documented values of answer fields the SDK types loosely

    @property
    def label(self) -> str:
        if self.sdk is not None:
            return f"{self.sdk[0].__name__}.{self.sdk[1]}"
        return f"{self.method} {self.path} ({self.doc.source if self.doc else 'no contract'})"


def sdk_request(cls: type, method: str) -> FacebookRequest:
    request: FacebookRequest = getattr(cls("0", api=_API), method)(pending=True)
    return request


def wire_params(request: Request) -> tuple[dict[str, str], set[str]]:
    """The parameters of a request (query string and form, as Graph reads both) and its file parts."""
    params = {k: v[0] for k, v in request.query.items()}
    files: set[str] = set()
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        for part in request.multipart().values():
            if part.filename:
                files.add(part.name)
            else:
                params[part.name] = part.data.decode("utf-8", "replace")
    else:
        params.update({k: v[0] for k, v in request.form().items()})
    return params, files


def value_problem(kind: str, value: str, enums: dict[str, list[str]]) -> str | None:
    """Why `value` (as sent on the wire) is not of the SDK type `kind`, or None."""
    if kind.startswith("enum:"):
        allowed = kind[5:].split("|")
        return None if value in allowed else f"{value!r} is not one of {allowed}"
    if kind in enums:
        return None if value in enums[kind] else f"{value!r} is not one of {enums[kind]}"
    if kind == "bool":
        return None if value in ("true", "false") else f"{value!r} is not a bool (true/false)"
    if kind in ("int", "unsigned int"):
        return None if re.fullmatch(r"-?\d+" if kind == "int" else r"\d+", value) else f"{value!r} is not {kind}"
    if kind == "datetime":
        if value.isdigit():
            return None
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a datetime (epoch seconds or ISO 8601)"
        return None
    if kind in ("Object", "map") or kind.startswith("map<"):
        try:
            ok = isinstance(json.loads(value), dict)
        except ValueError:
            ok = False
        return None if ok else f"{value!r} is not a JSON object"
    if kind.startswith("list<"):
        inner = kind[5:-1]
        try:
            items = json.loads(value)
        except ValueError:
            items = None
        if not isinstance(items, list):
            if inner in ("Object", "map") or inner.startswith("map"):
                return f"{value!r} is not a JSON list of objects"
            items = value.split(",")  # Graph also reads a list of scalars as comma-separated values
        for item in items:
            text = item if isinstance(item, str) else json.dumps(item)
            problem = value_problem(inner, text, enums) if inner not in ("Object", "map") else (
                None if isinstance(item, dict) else f"{item!r} is not an object")
            if problem:
                return f"item {problem}"
    return None


def _answer_class(call: Call, request: FacebookRequest | None, params: dict[str, str]) -> type | None:
    if call.answer_class is not None:
        return call.answer_class(params)
    target = getattr(request, "_target_class", None)
    return target if isinstance(target, type) and issubclass(target, AbstractObject) else None


def field_names(cls: type) -> set[str]:
    return {v for k, v in vars(cls.Field).items() if not k.startswith("_") and isinstance(v, str)}


def request_problems(call: Call, request: Request) -> list[str]:
    params, files = wire_params(request)
    where = f"{request.method} {request.path} ({call.label}) "
    out: list[str] = []
    if call.sdk is not None:
        built = sdk_request(*call.sdk)
        types: dict[str, str] = dict(built._param_checker._type_check_info)
        enums: dict[str, list[str]] = dict(built._param_checker._enum_data)
        edge_read = request.method == "GET" and built._api_type == "EDGE"
        answer_cls = _answer_class(call, built, params)
        accepted = field_names(answer_cls) if answer_cls is not None else None
    else:
        assert call.doc is not None
        types, enums, edge_read, accepted = dict(call.doc.params), {}, False, set(call.doc.fields) or None
        answer_cls = None
        for name in call.doc.required:
            if name not in params:
                out.append(f"{where}required parameter {name!r} is missing ({call.doc.source})")
    types.update(call.extra)
    for name, value in params.items():
        if name == "fields":
            if accepted is not None:
                of = answer_cls.__name__ if answer_cls is not None else "the documented answer"
                out += [f"{where}field {f!r} is not a field of {of}" for f in value.split(",") if f and f not in accepted]
            continue
        if (name in ALWAYS and name not in types) or (edge_read and name in PAGING):
            continue
        if name not in types:
            out.append(f"{where}parameter {name!r} is not a parameter of this call")
            continue
        problem = value_problem(types[name], value, enums)
        if problem:
            out.append(f"{where}parameter {name!r}: {problem}")
    for name in files:
        if types.get(name) not in ("file", "string") or (call.sdk is not None and name not in types):
            out.append(f"{where}file part {name!r} is not a parameter of this call")
    return out


def json_type_problem(kind: str | None, value: Any) -> str | None:
    if kind is None or value is None:
        return None
    if kind.startswith("enum:"):
        return None if value in kind[5:].split("|") else f"{value!r} is not one of {kind[5:].split('|')}"
    expected: Any = {"string": str, "int": int, "unsigned int": int, "bool": bool, "float": (int, float),
                     "datetime": str, "Object": dict, "map": dict}.get(kind)
    if expected is None:
        expected = list if kind.startswith("list") else dict  # map<...> or another SDK object
    if isinstance(value, bool) and expected is not bool:
        return f"{value!r} is a bool, not {kind}"
    return None if isinstance(value, expected) else f"{value!r} is not {kind}"


def _sdk_class(name: str) -> type | None:
    try:
        module = importlib.import_module(f"facebook_business.adobjects.{name.lower()}")
    except ImportError:
        return None
    cls = getattr(module, name, None)
    return cls if isinstance(cls, type) else None


def object_problems(cls: type, data: Any, where: str) -> list[str]:
    """Keys of `data` that are not Fields of the SDK class `cls`, and values of the wrong type."""
    if not isinstance(data, dict):
        return [f"{where}: {data!r} is not an object"]
    names = field_names(cls)
    types: dict[str, str] = getattr(cls, "_field_types", {})
    out = []
    for key, value in data.items():
        if key not in names:
            out.append(f"{where}.{key}: not a field of {cls.__name__}")
            continue
        kind = types.get(key)
        problem = json_type_problem(kind, value)
        if problem:
            out.append(f"{where}.{key}: {problem}")
        elif kind and isinstance(value, dict) and (inner := _sdk_class(kind)) is not None:
            out += object_problems(inner, value, f"{where}.{key}")
    return out


def answer_problems(call: Call, request: Request, response: Response) -> list[str]:
    where = f"{request.method} {request.path} ({call.label}) answer"
    body = response.body
    if response.status >= 400:
        return error_problems(body, where)
    if call.answer == "skip" or response.status in (301, 302):
        return []
    params, _ = wire_params(request)
    requested = set((params.get("fields") or "").split(",")) - {""}
    if call.answer == "created":
        if not isinstance(body, dict) or "id" not in body:
            return [f"{where}: {body!r} has no id"]
        return [f"{where}.{k}: not in a create call's answer {list(call.created)}" for k in body if k not in call.created]
    items = body.get("data") if call.answer == "list" and isinstance(body, dict) else [body]
    out: list[str] = []
    if call.answer == "list":
        out += [f"{where}.{k}: not part of a Graph list (data, paging, summary)" for k in body
                if k not in ("data", "paging", "summary")]
        if not isinstance(items, list):
            return [*out, f"{where}.data is not a list"]
    for i, item in enumerate(items or []):
        at = f"{where}.data[{i}]" if call.answer == "list" else where
        if call.sdk is not None:
            cls = _answer_class(call, sdk_request(*call.sdk), params)
            if cls is not None:
                out += object_problems(cls, item, at)
            for key, kind in call.values.items():
                if isinstance(item, dict) and key in item and (problem := json_type_problem(kind, item[key])):
                    out.append(f"{at}.{key}: {problem}")
        elif call.doc is not None and call.doc.fields and isinstance(item, dict):
            for key, value in item.items():
                if key not in call.doc.fields:
                    out.append(f"{at}.{key}: not a documented field ({call.doc.source})")
                elif (problem := json_type_problem(call.doc.fields[key], value)) is not None:
                    out.append(f"{at}.{key}: {problem}")
        if requested and isinstance(item, dict):  # Graph answers the fields asked for, and the id
            out += [f"{at}.{k}: answered without being asked for (fields={','.join(sorted(requested))})"
                    for k in item if k not in requested | {"id"}]
    return out


def error_problems(body: Any, where: str) -> list[str]:
    """A Graph error body as the SDK's FacebookRequestError reads it: {"error": {message, type, code, ...}}."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict) or set(body) != {"error"}:
        return [f"{where}: {body!r} is not Graph's error envelope {{'error': {{...}}}}"]
    error = body["error"]
    out = [f"{where}.error.{k}: missing" for k in ("message", "type", "code", "fbtrace_id") if k not in error]
    for key, value in error.items():
        expected = ERROR_KEYS.get(key)
        if expected is None:
            out.append(f"{where}.error.{key}: not a field of Graph's error object")
        elif (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            out.append(f"{where}.error.{key}: {value!r} is not {getattr(expected, '__name__', expected)}")
    return out


def check(calls: list[Call], request: Request, response: Response, *, version: str) -> list[str]:
    path = request.path.removeprefix(version)
    known = [c for c in calls if c.method == request.method and re.fullmatch(c.path, path)]
    if not known:
        return [f"{request.method} {request.path} is not a call this contract test knows"]
    return request_problems(known[0], request) + answer_problems(known[0], request, response)
