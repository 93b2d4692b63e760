"""Reading sync.yaml: every problem in a file becomes one readable line with the setting's path,
the bad value and what is allowed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from woo_exact_pipeline.config.model import SeveralShops, SyncConfig


class ConfigError(Exception):
    """A sync.yaml that cannot be used; `problems` holds one readable line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} has {len(problems)} problem(s):\n{listing}")


def default_config_path() -> Path:
    return Path(os.environ.get("WOO_EXACT_CONFIG", "sync.yaml"))


def load_shops(path: Path | str | None = None) -> list[SyncConfig]:
    """Every shop of the file, in its order."""
    config_path = Path(path) if path is not None else default_config_path()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(config_path), ["file not found; copy sync.example.yaml to start one"]
        ) from None
    return parse_shops(text, source=str(config_path))


def load_config(path: Path | str | None = None, *, shop: str | None = None) -> SyncConfig:
    """One shop of the file: the one named `shop`, or the only one."""
    config_path = Path(path) if path is not None else default_config_path()
    return choose_shop(load_shops(config_path), shop, source=str(config_path))


def choose_shop(shops: list[SyncConfig], name: str | None, *, source: str) -> SyncConfig:
    if name is None and len(shops) == 1:
        return shops[0]
    listed = ", ".join(shop.label for shop in shops)
    if name is None:
        raise ConfigError(source, [f"it has several shops ({listed}); choose one with --shop"])
    for shop in shops:
        if shop.name == name:
            return shop
    raise ConfigError(source, [f"no shop is named {name!r}; its shops: {listed}"])


def parse_config(text: str, *, source: str = "sync.yaml") -> SyncConfig:
    """The settings of a file that describes one shop."""
    return choose_shop(parse_shops(text, source=source), None, source=source)


def parse_shops(text: str, *, source: str = "sync.yaml") -> list[SyncConfig]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(source, [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source, ["the file must be a mapping with woocommerce: and exact: (or shops:)"]
        )
    model: type[SyncConfig | SeveralShops] = SeveralShops if "shops" in data else SyncConfig
    try:
        settings = model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(source, [_describe(e, model) for e in error.errors()]) from None
    if isinstance(settings, SyncConfig):
        return [settings]
    if clashes := settings.clashes():
        raise ConfigError(source, clashes)
    return settings.shop_settings()


def _describe(error: Any, model: type[BaseModel]) -> str:
    location = _path(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"{location}: required setting is missing"
    if kind == "extra_forbidden":
        parent, _, name = location.rpartition(".")
        allowed = _allowed_keys(model, parent)
        return f"{location}: unknown setting {name!r}; allowed here: {allowed}"
    if kind == "literal_error":
        allowed = error["ctx"]["expected"].replace("'", "")
        return f"{location}: {value!r} is not allowed; choose one of {allowed}"
    if kind.startswith("decimal") or kind in {"float_parsing", "float_type"}:
        return f"{location}: {value!r} is not a number"
    if kind.startswith(("int_", "int_parsing")):
        return f"{location}: {value!r} is not a whole number"
    if kind.startswith("date"):
        return f"{location}: {value!r} is not a date; write it as YYYY-MM-DD"
    if kind.startswith("bool"):
        return f"{location}: {value!r} is not yes/no (true or false)"
    if kind == "value_error":
        message = str(error["ctx"]["error"])
        return f"{location}: {message}" if location else message
    if kind in {"greater_than", "greater_than_equal", "less_than_equal", "less_than"}:
        return f"{location}: {value!r} is out of range ({error['msg'].lower()})"
    return f"{location}: {error['msg']} (got {value!r})"


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "[" in str(part):
            # pydantic names union branches like "bool" or "function-after[...]": not a key.
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed_keys(model: type[BaseModel], parent: str) -> str:
    # "shops[1].exact" walks shops (a list of entries), then exact.
    for part in [re.sub(r"\[\d+\]$", "", p) for p in parent.split(".") if p]:
        field = model.model_fields.get(part)
        if field is None:
            break
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)]
        candidates += [arg for candidate in candidates for arg in get_args(candidate)]
        nested = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nested is None:
            break
        model = nested
    return ", ".join(model.model_fields)
