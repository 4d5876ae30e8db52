"""Command-line flags generated from options dataclasses, so defaults, limits and help are
written once (on the fields). The convert tree's flags are grouped by stage; their values go
through the one coercion, :func:`paint2vr.config.coerce_options`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any, TypeVar

from ..config import coerce_options, describe_limits, field_docs, moved_fields
from ..errors import InputError

T = TypeVar("T")
DEST = "opt:"
"""Prefix of the argparse destinations holding a tree field, followed by its dotted path."""

TREE_GROUPS: dict[str, tuple[str, str]] = {
    "": ("", "run"),
    "load": ("", "image loading limits"),
    "depth": ("", "depth: source"),
    "depth.hints": ("hint-", "depth: a designer's hints (the prior and a learned model's metric scale)"),
    "depth.prior": ("prior-", "depth: the built-in prior (no weights)"),
    "depth.transformers": ("model-", "depth: learned models (--model NAME)"),
    "depth.read": ("depth-", "depth: reading a depth file (--depth FILE)"),
    "lift": ("", "lifting: layers, filling, meshes"),
    "effects": ("", "effects (per-effect options: --effect-opt EFFECT.FIELD=VALUE, 'paint2vr effects list')"),
    "export": ("", "export"),
}
"""Flag prefix and --help group title of the tree's options classes; a class not listed (a
stage adding nested options) gets its parent's prefix plus its field name, e.g.
``depth.transformers.scale`` -> ``--model-scale-*``. Per-effect options are set with
--effect-opt instead of one flag each. The former names of moved fields
(:func:`paint2vr.config.moved_fields`) keep their flags, hidden from --help."""


def _group(path: str) -> tuple[str, str]:
    if path in TREE_GROUPS:
        return TREE_GROUPS[path]
    parent, name = path.rsplit(".", 1)
    prefix, title = _group(parent)
    return f"{prefix}{name}-", f"{title}: {name.replace('_', ' ')}"


def _shown(value: Any) -> str:
    """A default as a user types it: on/off, a,b,c, unset."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(_shown(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def help_text(doc: str, default: Any, meta: typing.Mapping[str, Any]) -> str:
    """A field's --help line: its docstring in user terms, its limits and its default."""
    doc = re.sub(r"``([^`]*)``", r"\1", doc)
    doc = re.sub(r"\bNone\b", "unset", doc).replace("True", "on").replace("False", "off")
    limits = describe_limits(meta)
    extra = f"; {limits}" if limits else ""
    return f"{doc} (default: {_shown(default)}{extra})".replace("%", "%%")


def _number(kind: type, optional: bool) -> Any:
    """argparse type for a number flag (typed values for commands that read ``args`` directly;
    'none' for an optional one); the coercion checks it again."""
    def parse(text: str) -> Any:
        if optional and text.strip().lower() in ("none", ""):
            return None
        return kind(text.replace("_", ""))
    parse.__name__ = kind.__name__  # argparse's message: "invalid int value: 'x'"
    return parse


def _argument(group: Any, flag: str, dest: str, hint: Any, default: Any, doc: str,
              meta: typing.Mapping[str, Any], more: tuple[str, ...] = (), shown: bool = True) -> None:
    kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS,
                              "help": help_text(doc, default, meta) if shown else argparse.SUPPRESS}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    else:
        literal = next((a for a in (hint, *args) if typing.get_origin(a) is typing.Literal), None)
        kwargs["metavar"] = re.split(r"[.:]", dest)[-1].upper()
        if literal is not None:
            kwargs["choices"] = list(typing.get_args(literal)) + (["none"] if type(None) in args else [])
            del kwargs["metavar"]
        elif origin is tuple or any(typing.get_origin(a) is tuple for a in args):
            items = typing.get_args(hint if origin is tuple else next(a for a in args if typing.get_origin(a) is tuple))
            fixed = len(items) <= 8 and Ellipsis not in items
            kwargs["metavar"] = ",".join("XYZUVWST"[:len(items)]) if fixed else "A,B,..."
        elif hint in (int, float) or int in args or float in args:
            kwargs["metavar"] = "N" if int in (hint, *args) else "X"
            kwargs["type"] = _number(int if int in (hint, *args) else float, type(None) in args)
    group.add_argument(flag, *more, **kwargs)


def add_tree_options(parser: argparse.ArgumentParser, cls: type, *, path: str = "",
                     exclude: tuple[str, ...] = (), hidden: tuple[str, ...] = ()) -> None:
    """Flags for every field of the options tree ``cls`` whose class is in :data:`TREE_GROUPS`,
    one argument group per stage; ``exclude``: dotted paths (fields or whole classes) left out;
    ``hidden``: dotted paths whose flags work but --help does not show (with the former names
    of fields, :func:`paint2vr.config.moved_fields`: deprecated flags)."""
    hidden = hidden + tuple(f"{path}.{old}" if path else old for old in moved_fields(cls))
    prefix, title = _group(path)
    group = parser.add_argument_group(title) if title else parser
    docs, hints = field_docs(cls), typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        sub = f"{path}.{f.name}" if path else f.name
        hint, default = hints[f.name], getattr(defaults, f.name)
        if sub in exclude:
            continue
        if dataclasses.is_dataclass(hint):
            if not sub.startswith("effects."):  # per-effect options: --effect-opt
                add_tree_options(parser, hint, path=sub, exclude=exclude, hidden=hidden)
            continue
        flag = "--" + f.metadata.get("flag", prefix + f.name).replace("_", "-")
        old = tuple("--" + (prefix + a).replace("_", "-") for a in f.metadata.get("aliases", ()))
        _argument(group, flag, DEST + sub, hint, default, docs.get(f.name, ""), f.metadata, old, sub not in hidden)


def tree_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The tree fields typed on the command line, as a nested mapping of raw values."""
    out: dict[str, Any] = {}
    for dest, value in vars(args).items():
        if not dest.startswith(DEST):
            continue
        *parents, leaf = dest[len(DEST):].split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def read_config(path: str) -> dict[str, Any]:
    """An options file: TOML (.toml) or JSON (.json), a mapping of the tree's fields."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{p}: cannot read the options file ({exc.strerror or exc})") from None
    try:
        if p.suffix.lower() == ".toml":
            import tomllib
            data = tomllib.loads(text)
        elif p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise InputError(f"{p}: options files are .toml or .json, got {p.suffix or 'no suffix'!r}")
    except (ValueError, TypeError) as exc:
        raise InputError(f"{p}: not valid {p.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: the options file must hold a mapping of options, got {type(data).__name__}")
    return data


# -- flat options classes (batch, manifest, preview, ...) ---------------------------------

def add_options(parser: argparse.ArgumentParser | Any, cls: type, *, prefix: str = "",
                exclude: tuple[str, ...] = (), title: str | None = None) -> None:
    """One flag per (non-nested) field of dataclass ``cls``; values go through the coercion
    in :func:`options_from_args`. Flags default to ``argparse.SUPPRESS`` so that only what the
    user typed overrides the dataclass defaults."""
    group = parser.add_argument_group(title) if title else parser
    docs, hints = field_docs(cls), typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        if f.name in exclude or not f.init or dataclasses.is_dataclass(hints[f.name]):
            continue
        flag = "--" + f.metadata.get("flag", prefix + f.name).replace("_", "-")
        old = tuple("--" + (prefix + a).replace("_", "-") for a in f.metadata.get("aliases", ()))
        _argument(group, flag, (prefix + f.name).replace("-", "_"), hints[f.name], getattr(defaults, f.name),
                  docs.get(f.name, ""), f.metadata, old)


def options_from_args(args: argparse.Namespace, cls: type[T], *, prefix: str = "",
                      base: T | None = None) -> T:
    """The dataclass ``cls`` with the fields the user gave on the command line replaced."""
    hints = typing.get_type_hints(cls)
    changes = {f.name: getattr(args, (prefix + f.name).replace("-", "_"))
               for f in dataclasses.fields(cls)  # type: ignore[arg-type]
               if hasattr(args, (prefix + f.name).replace("-", "_")) and not dataclasses.is_dataclass(hints[f.name])}
    return coerce_options(cls, changes, cls.__name__, base)
