"""Checking requests and answers against a Google API discovery document (the JSON that
`google-api-python-client` bundles for every API it can call): method parameters, request bodies
and resources by their schemas, strictly (a key the schema does not define is reported).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import cache
from typing import Any


@cache
def document(name: str) -> dict[str, Any]:
    """A bundled discovery document, e.g. "youtube.v3"."""
    import googleapiclient

    folder = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")
    with open(os.path.join(folder, f"{name}.json"), encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def method(doc: dict[str, Any], dotted: str) -> dict[str, Any]:
    """`videos.insert` -> its method description."""
    resource, name = dotted.rsplit(".", 1)
    node: dict[str, Any] = doc
    for part in resource.split("."):
        node = node["resources"][part]
    result: dict[str, Any] = node["methods"][name]
    return result


def parameter_problems(doc: dict[str, Any], dotted: str, query: dict[str, list[str]]) -> list[str]:
    """Query parameters a method does not define, required ones missing, and enum/part values."""
    m = method(doc, dotted)
    known = {**doc.get("parameters", {}), **m.get("parameters", {})}
    out = [f"{dotted}: query parameter {name!r} is not in the document" for name in query if name not in known]
    for name, spec in m.get("parameters", {}).items():
        if spec.get("required") and name not in query:
            out.append(f"{dotted}: the required parameter {name!r} is missing")
    for name, values in query.items():
        spec = known.get(name, {})
        for value in values:
            if "enum" in spec and value not in spec["enum"]:
                out.append(f"{dotted}: {name}={value!r} is not one of {spec['enum']}")
    return out


def schema_problems(doc: dict[str, Any], schema: dict[str, Any] | str, data: Any, where: str = "") -> list[str]:
    """What in `data` the schema (a name in doc["schemas"] or a schema object) does not allow."""
    if isinstance(schema, str):
        schema = {"$ref": schema}
    if "$ref" in schema:
        return schema_problems(doc, doc["schemas"][schema["$ref"]], data, where or schema["$ref"])
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(data, dict):
            return [f"{where}: expected an object, got {type(data).__name__}"]
        out: list[str] = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in data.items():
            if key in properties:
                out += schema_problems(doc, properties[key], value, f"{where}.{key}")
            elif extra is not None:
                out += schema_problems(doc, extra, value, f"{where}.{key}")
            else:
                out.append(f"{where}.{key}: not a property in the document")
        return out
    if kind == "array":
        if not isinstance(data, list):
            return [f"{where}: expected an array"]
        return [p for i, item in enumerate(data) for p in schema_problems(doc, schema.get("items", {}), item,
                                                                          f"{where}[{i}]")]
    if kind == "string":
        if not isinstance(data, str):
            return [f"{where}: expected a string, got {data!r}"]
        if "enum" in schema and data not in schema["enum"]:
            return [f"{where}: {data!r} is not one of {schema['enum']}"]
        if schema.get("format") == "date-time":
            try:
                datetime.fromisoformat(data.replace("Z", "+00:00"))
            except ValueError:
                return [f"{where}: {data!r} is not an RFC 3339 date-time"]
        if schema.get("format") in ("int64", "uint64") and not data.lstrip("-").isdigit():
            return [f"{where}: {data!r} is not an {schema['format']} string"]
        return []
    if kind == "boolean" and not isinstance(data, bool):
        return [f"{where}: expected true or false, got {data!r}"]
    if kind == "integer" and (isinstance(data, bool) or not isinstance(data, int)):
        return [f"{where}: expected an integer, got {data!r}"]
    if kind == "number" and (isinstance(data, bool) or not isinstance(data, int | float)):
        return [f"{where}: expected a number, got {data!r}"]
    return []
