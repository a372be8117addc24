"""Checking JSON against models made by openapi-generator's Python client (the style of Pinterest's
official `pinterest-api-sdk`): the SDK's own type, enum and length validation, plus every key the
model does not define (the generated models accept unknown keys, so a misspelt field would pass).
"""

from __future__ import annotations

from typing import Any


def sdk_problems(model: type, data: Any, where: str, *, allowed_extra: dict[str, str] | None = None) -> list[str]:
    """Problems of `data` as the SDK's `model`. `allowed_extra` maps keys the SDK's (older) models lack
    but the platform's current document defines to the source that says so."""
    from openapi_generated.pinterest_client.configuration import Configuration
    from openapi_generated.pinterest_client.exceptions import OpenApiException
    from openapi_generated.pinterest_client.model_utils import validate_and_convert_types

    out: list[str] = []
    known = {k: v for k, v in data.items() if k not in (allowed_extra or {})} if isinstance(data, dict) else data
    try:
        validate_and_convert_types(known, (model,), [where], True, True,
                                   configuration=Configuration(discard_unknown_keys=False))
    except (OpenApiException, TypeError, ValueError) as exc:
        out.append(f"{where}: {exc}")
    out += unknown_keys(model, data, where, allowed_extra or {})
    return out


def unknown_keys(model: Any, data: Any, where: str, allowed_extra: dict[str, str]) -> list[str]:
    from openapi_generated.pinterest_client.model_utils import ModelComposed, ModelNormal

    if isinstance(model, list):  # [Model]: a list of them
        return [p for i, item in enumerate(data if isinstance(data, list) else [])
                for p in unknown_keys(model[0], item, f"{where}[{i}]", allowed_extra)]
    if not isinstance(model, type) or not isinstance(data, dict):
        return []
    if issubclass(model, ModelComposed):
        chosen = _by_discriminator(model, data)
        candidates = [chosen] if chosen is not None and chosen is not model else _one_of(model)
        if candidates:
            return min((unknown_keys(c, data, where, allowed_extra) for c in candidates), key=len)
        # allOf: the model's own fields and every part's
        fields = set(model.attribute_map.values())
        for part in model._composed_schemas.get("allOf") or []:
            fields |= set(part.attribute_map.values())
        return [f"{where}.{key}: not a field of {model.__name__} in the contract" for key in data
                if key not in fields and key not in allowed_extra]
    if not issubclass(model, ModelNormal):
        return []
    subtype = _by_discriminator(model, data)  # a base with a discriminator: the subtype named by the data
    if subtype is not None and subtype is not model:
        return unknown_keys(subtype, data, where, allowed_extra)
    wire = {json_key: name for name, json_key in model.attribute_map.items()}
    types = model.openapi_types
    out = []
    for key, value in data.items():
        if key in allowed_extra:
            continue
        if key not in wire:
            out.append(f"{where}.{key}: not a field of {model.__name__} in the contract")
            continue
        for option in types[wire[key]]:
            if isinstance(option, list) or (isinstance(option, type) and issubclass(option, ModelNormal | ModelComposed)):
                out += unknown_keys(option, value, f"{where}.{key}", allowed_extra)
                break
    return out


def _by_discriminator(model: Any, data: dict[str, Any]) -> Any:
    mapping = getattr(model, "discriminator", None)
    if not mapping:
        return None
    (field, classes), = mapping.items()
    return classes.get(data.get(field)) if isinstance(classes, dict) else None


def _one_of(model: Any) -> list[Any]:
    schemas = model._composed_schemas
    return list(schemas.get("oneOf") or []) + list(schemas.get("anyOf") or [])
