"""The settings reference (README): every setting with its type, default and meaning, from the
model itself."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
)

from woo_exact_pipeline.config.model import SyncConfig
from woo_exact_pipeline.config.values import (
    _country_code,
    _environment_variable,
    _ledger_code,
    _shop_name,
    _time_zone,
)
from woo_exact_pipeline.markdown import markdown_table


def config_reference_markdown() -> str:
    """The settings table of the README, generated from the model so the two cannot drift."""
    return markdown_table(
        ("setting", "type", "default", "meaning"),
        (
            (f"`{path}`", kind, default, meaning)
            for path, kind, default, meaning in _reference_rows(SyncConfig, "")
        ),
    )


def _reference_rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += _reference_rows(annotation, f"{path}.")
            continue
        kind = _render_type(annotation)
        if field.metadata and annotation is not None:
            kind = _render_type(Annotated[annotation, *field.metadata])
        default = "required" if field.is_required() else f"`{_render_default(field.default)}`"
        rows.append((path, kind, default, field.description or ""))
    return rows


def _render_default(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return "empty" if value is None else str(value)


def _render_type(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " / ".join(str(arg) for arg in args)
    if origin is Annotated:
        named = {
            _ledger_code: "code",
            _country_code: "country code",
            _time_zone: "time zone",
            _shop_name: "shop name",
            _environment_variable: "variable name",
        }
        validators = [getattr(meta, "func", None) for meta in annotation.__metadata__]
        return next((named[v] for v in validators if v in named), _render_type(args[0]))
    if origin in (Union, UnionType):
        return " or ".join(_render_type(arg) for arg in args)
    if origin is list:
        return f"list of {_render_type(args[0])}"
    if origin is dict:
        return f"{_render_type(args[0])} -> {_render_type(args[1])}"
    names = {
        type(None): "empty",
        Decimal: "number",
        float: "number",
        int: "whole number",
        str: "text",
        bool: "yes/no",
    }
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))
