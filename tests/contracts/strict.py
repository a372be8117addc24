"""Checking JSON against a platform's own generated models, strictly.

The official SDKs generate pydantic models from each platform's contract (atproto's lexicons,
X's OpenAPI document, Pinterest's OpenAPI). They accept extra keys (`extra="allow"`), so a field
whose name we got wrong would pass their validation silently: `problems` also walks the data
along the model's fields and reports every key the contract does not define.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


def problems(model: type[BaseModel], data: Any, *, where: str = "", unknown_ok: tuple[str, ...] = ()) -> list[str]:
    """Everything in `data` the contract `model` does not allow: failed validation and unknown keys."""
    out: list[str] = []
    try:
        model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            out.append(f"{where}{loc}: {err['msg']}")
    out.extend(p for p in unknown_keys(model, data, where or model.__name__, model)
               if not any(p.startswith(ok) for ok in unknown_ok))
    return out


def unknown_keys(annotation: Any, data: Any, where: str, owner: type | None = None) -> list[str]:
    """Keys of `data` that `annotation` (a model, list, union, ... of models) does not define."""
    annotation = _resolve(annotation, owner)
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return unknown_keys(get_args(annotation)[0], data, where, owner)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if not options:
            return []
        results = [unknown_keys(a, data, where, owner) for a in options]
        typed = _by_type_tag(options, data, owner)
        if typed is not None:
            return unknown_keys(typed, data, where, owner)
        return min(results, key=len)
    if origin in (list, tuple, set) and isinstance(data, list):
        args = get_args(annotation)
        return [p for i, item in enumerate(data) for p in unknown_keys(args[0] if args else Any, item,
                                                                         f"{where}[{i}]", owner)]
    if origin is dict or not isinstance(annotation, type):
        return []
    if issubclass(annotation, BaseModel) and isinstance(data, dict):
        fields = _fields(annotation)
        out = []
        for key, value in data.items():
            if key not in fields:
                out.append(f"{where}.{key}: not a field of {annotation.__name__} in the contract")
            else:
                out.extend(unknown_keys(fields[key], value, f"{where}.{key}", annotation))
        return out
    return []


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    generator = model.model_config.get("alias_generator")
    names: dict[str, Any] = {}
    for name, info in model.model_fields.items():  # the names on the wire: aliases where there are any
        wire = info.alias or (generator(name) if callable(generator) else name)
        names[wire] = info.annotation
    return names


def _resolve(annotation: Any, owner: type | None) -> Any:
    if isinstance(annotation, str):
        annotation = ForwardRef(annotation)
    if isinstance(annotation, ForwardRef) and owner is not None:
        namespace = dict(vars(sys.modules[owner.__module__]))
        try:
            return typing._eval_type(annotation, namespace, None)  # type: ignore[attr-defined]
        except Exception:
            return Any
    return annotation


def _by_type_tag(options: list[Any], data: Any, owner: type | None) -> Any:
    """The union member whose `$type` (atproto's discriminator) matches the data's."""
    if not isinstance(data, dict) or "$type" not in data:
        return None
    for option in options:
        option = _resolve(option, owner)
        if isinstance(option, type) and issubclass(option, BaseModel):
            for info in option.model_fields.values():
                if (info.alias == "$type" and get_origin(info.annotation) is Literal
                        and data["$type"] in get_args(info.annotation)):
                    return option
    return None
