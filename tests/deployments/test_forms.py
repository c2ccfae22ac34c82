"""Every deployment's parameter form explains itself: each field described and typed."""

from __future__ import annotations

from typing import Any

import pytest

from deployments.definitions import DEPLOYMENTS, DeploymentSpec
from deployments.serve import load_flow


def _fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every field of the form: top-level parameters and the fields of nested models."""
    out = [(name, prop) for name, prop in schema["properties"].items()]
    for model, definition in schema.get("definitions", {}).items():
        for name, prop in definition.get("properties", {}).items():
            out.append((f"{model}.{name}", prop))
    return out


def _types(prop: dict[str, Any]) -> list[Any]:
    options = prop.get("anyOf", [prop])
    return [o.get("type") or o.get("$ref") or o.get("enum") or o.get("allOf") for o in options]


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_every_field_of_every_deployment_is_described_and_typed(spec: DeploymentSpec):
    schema = load_flow(spec).parameters.model_dump()
    fields = _fields(schema)
    assert fields, f"{spec.name} has no parameters"
    for name, prop in fields:
        assert (prop.get("description") or "").strip(), f"{spec.name}: {name} has no description"
        assert all(t is not None for t in _types(prop)), f"{spec.name}: {name} is untyped"


def test_choices_are_dropdowns_and_no_form_asks_for_a_path():
    schemas = {spec.name: load_flow(spec).parameters.model_dump() for spec in DEPLOYMENTS}
    ingest = schemas["ingest"]["properties"]
    assert "data_dir" not in ingest
    enums = {
        name: [o.get("enum") for o in prop.get("anyOf", [prop]) if o.get("enum")]
        for name, prop in ingest.items()
    }
    assert enums["exchange"] == [["sim", "binanceusdm", "deribit"]]
    assert "1m" in enums["timeframe"][0]
    datasets = schemas["compaction"]["properties"]["datasets"]
    items = next(o for o in datasets["anyOf"] if o.get("type") == "array")["items"]
    assert "ohlcv" in items["enum"]
    assert schemas["kill-switch"]["properties"]["action"]["enum"] == [
        "status",
        "on",
        "off",
        "flatten",
    ]
