"""Build argparse flags from options dataclasses, so defaults and help are written once."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, TypeVar

from ..config import field_docs

T = TypeVar("T")


def _flag(prefix: str, name: str) -> str:
    return "--" + (prefix + name).replace("_", "-")


def _dest(prefix: str, name: str) -> str:
    return (prefix + name).replace("-", "_")


def add_options(parser: argparse.ArgumentParser | Any, cls: type, *, prefix: str = "",
                exclude: tuple[str, ...] = (), title: str | None = None) -> None:
    """Add one flag per field of dataclass ``cls`` (help text from its field docstrings).

    Flags default to ``argparse.SUPPRESS`` so that only what the user typed overrides the
    dataclass defaults (see :func:`options_from_args`).
    """
    group = parser.add_argument_group(title) if title else parser
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.init:
            continue
        hint = hints[f.name]
        default = getattr(defaults, f.name)
        if dataclasses.is_dataclass(default):
            continue  # nested options are added by their own call
        help_text = docs.get(f.name, "")
        kwargs: dict[str, Any] = {"dest": _dest(prefix, f.name), "default": argparse.SUPPRESS}
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin is tuple:
            kwargs["type"] = lambda s, t=args[0]: tuple(t(x) for x in s.split(",") if x.strip())
            kwargs["metavar"] = "A,B,..."
            default = ",".join(map(str, default)) or "none"
        elif origin is typing.Literal:
            kwargs["choices"] = list(args)
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            inner = [a for a in args if a is not type(None)]
            kwargs["type"] = inner[0] if inner and inner[0] in (int, float, str) else str
        elif hint in (int, float, str):
            kwargs["type"] = hint
        else:
            kwargs["type"] = str
        kwargs["help"] = f"{help_text} (default: {default})"
        group.add_argument(_flag(prefix, f.name), **kwargs)


def options_from_args(args: argparse.Namespace, cls: type[T], *, prefix: str = "",
                      base: T | None = None) -> T:
    """The dataclass ``cls`` with the fields the user gave on the command line replaced."""
    base = base if base is not None else cls()
    changes = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        dest = _dest(prefix, f.name)
        if hasattr(args, dest):
            changes[f.name] = getattr(args, dest)
    return dataclasses.replace(base, **changes) if changes else base  # type: ignore[type-var]
