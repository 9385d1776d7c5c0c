"""Is a contract change purely additive? Compares two JSON Schemas of one event version.

Additive: a new optional field, a new enum value (values are strings, see codes.py), a looser or equal
constraint, a new alternative in a union, a changed description. Anything else (a field removed or
renamed, a type changed, a field newly required, a constraint tightened) breaks a consumer or the
replay of archived events, and needs a new major version instead.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_DOCUMENTATION = frozenset({"title", "description", "examples", "default"})
# Numeric bounds: the new bound must be at least as loose as the old one.
_LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems"})
_UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems"})


def inline_refs(schema: Schema) -> Schema:
    """Replace `$ref`s into `$defs` by the definitions themselves (event schemas are not recursive)."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                merged = {**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}}
                return resolve(merged)
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: Schema = resolve(schema)
    return resolved


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every way `new` fails to accept what `old` accepted (empty when the change is additive)."""
    problems: list[str] = []
    _compare(inline_refs(old), inline_refs(new), "$", problems)
    return problems


def _options(schema: Schema) -> list[Schema]:
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives is None:
        return [schema]
    return [option for alternative in alternatives for option in _options(alternative)]


def _compare(old: Schema, new: Schema, path: str, problems: list[str]) -> None:
    old_options, new_options = _options(old), _options(new)
    if len(old_options) > 1 or len(new_options) > 1:
        for option in old_options:
            # Each thing the old schema accepted must still be accepted by some new alternative.
            if not any(not _quiet_compare(option, candidate, path) for candidate in new_options):
                problems.append(f"{path}: no longer accepts {_describe(option)}")
        return
    _compare_single(old, new, path, problems)


def _quiet_compare(old: Schema, new: Schema, path: str) -> list[str]:
    found: list[str] = []
    _compare(old, new, path, found)
    return found


def _describe(schema: Schema) -> str:
    if "enum" in schema:
        return f"enum {schema['enum']}"
    if "const" in schema:
        return f"const {schema['const']!r}"
    return str(schema.get("type", "a value"))


def _loosened(key: str, before: Any, after: Any) -> bool:
    """True if a changed keyword accepts at least what it accepted before."""
    if after is None:
        return key in _LOWER_BOUNDS | _UPPER_BOUNDS | {"additionalProperties", "pattern", "format"}
    if before is None:
        return False
    if key in _LOWER_BOUNDS:
        return bool(after <= before)
    if key in _UPPER_BOUNDS:
        return bool(after >= before)
    return key == "additionalProperties" and after is True


def _compare_single(old: Schema, new: Schema, path: str, problems: list[str]) -> None:
    if old.get("type") != new.get("type"):
        problems.append(f"{path}: type changed from {old.get('type')} to {new.get('type')}")
        return
    for key in (set(old) | set(new)) - _DOCUMENTATION - {"type", "properties", "required", "items"}:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "enum" and before is not None and after is not None:
            removed = [value for value in before if value not in after]
            if removed:
                problems.append(f"{path}: enum values removed: {removed}")
        elif not _loosened(key, before, after):
            problems.append(f"{path}: {key} changed from {before!r} to {after!r}")
    if "items" in old or "items" in new:
        _compare(old.get("items", {}), new.get("items", {}), f"{path}[]", problems)
    old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_properties.items():
        if name not in new_properties:
            problems.append(f"{path}.{name}: field removed")
        else:
            _compare(schema, new_properties[name], f"{path}.{name}", problems)
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"{path}.{name}: field is now required")
