"""Options dataclasses: the one place defaults are written.

Each stage has a frozen dataclass of options next to it, every field documented by the
string literal right below it (the attribute-docstring convention). :func:`field_docs`
reads those strings so the CLI's ``--help`` and the docs come from the same source.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import logging
import os
import textwrap
import types
import typing
from typing import Any, TypeVar

from .errors import InputError, OptionError

T = TypeVar("T")


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Map each dataclass field of ``cls`` (and its bases) to its attribute docstring."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
        for stmt, nxt in zip(body, body[1:]):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def replace_options(options: T, **changes: Any) -> T:
    """``dataclasses.replace`` that raises :class:`InputError` naming unknown fields."""
    names = {f.name for f in dataclasses.fields(options)}  # type: ignore[arg-type]
    unknown = sorted(set(changes) - names)
    if unknown:
        raise InputError(
            f"unknown option(s) for {type(options).__name__}: {', '.join(unknown)}",
            hint=f"expected one of: {', '.join(sorted(names))}")
    return dataclasses.replace(options, **changes)  # type: ignore[type-var]


def moved_fields(cls: type) -> dict[str, str]:
    """Former names of fields of the options class ``cls`` (dotted paths under it, possibly
    into nested classes) -> their place now: a class's ``_moved`` mapping. A mapping or flag
    may still name a former field (the class moves its value, with a warning); records and
    --help leave them out."""
    return dict(getattr(cls, "_moved", None) or {})


def options_to_dict(options: Any) -> dict[str, Any]:
    """A JSON-ready dict of an options dataclass (tuples become lists), for provenance; former
    names of fields (:func:`moved_fields`) are left out."""
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            out = {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
            for old in moved_fields(type(v)):
                *parents, leaf = old.split(".")
                node = out
                for p in parents:
                    node = node.get(p) if isinstance(node, dict) else None
                if isinstance(node, dict):
                    node.pop(leaf, None)
            return out
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v
    return plain(options)


# -- limits on the field, one validator, one coercion -------------------------------------

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_NONE = frozenset({"none", "null", ""})
LIMIT_KEYS = ("ge", "gt", "le", "lt", "choices", "each", "flag", "aliases")


def opt(default: Any, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
        lt: float | None = None, choices: tuple[Any, ...] | None = None,
        each: tuple[float, float] | None = None, flag: str | None = None,
        aliases: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its limits declared on it, read by :func:`check_options`.

    ``ge``/``gt``/``le``/``lt`` bound a number (None passes when the type allows it);
    ``choices`` lists the allowed values; ``each`` = (lo, hi) bounds every item of a tuple;
    ``flag`` names the CLI flag when it is not the field's name; ``aliases`` are former names
    still accepted in mappings and as flags (deprecated: a warning says the new name).
    """
    meta = {k: v for k, v in dict(ge=ge, gt=gt, le=le, lt=lt, choices=choices, each=each,
                                    flag=flag, aliases=aliases).items() if v is not None}
    return dataclasses.field(default=default, metadata=meta)


def describe_type(hint: Any) -> str:
    """A type as a user reads it: 'number', 'integer', 'yes/no', "one of 'a', 'b'"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "text"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {describe_type(args[0])}s"
        return f"{len(args)} comma-separated {describe_type(args[0])}s"
    if _is_union(origin):
        inner = [describe_type(a) for a in args if a is not type(None)]
        return " or ".join(inner) + (" or none" if type(None) in args else "")
    if dataclasses.is_dataclass(hint):
        return f"an object (mapping) of {hint.__name__} fields"
    return getattr(hint, "__name__", str(hint))


def _is_union(origin: Any) -> bool:
    return origin is typing.Union or origin is types.UnionType


MAX_STRICT_INT = 2 ** 53
"""Largest integer magnitude a strict (JSON) value may have: beyond it JSON loses exactness."""


def coerce_value(hint: Any, value: Any, where: str, strict: bool = False) -> Any:
    """``value`` (from Python, JSON, TOML or a command line string) as type ``hint``;
    OptionError naming ``where`` when it is not one. Strings 'no'/'false'/'off'/'0' are
    False, never truthy; ``strict`` (JSON manifests) takes no text for numbers, flags or
    lists, and integers only up to :data:`MAX_STRICT_INT`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    bad = OptionError(where, describe_type(hint), value)
    if strict and isinstance(value, str) and (hint in (bool, int, float) or (origin is tuple and args[0] is not str)):
        raise bad  # ('a,b' for a list of names is fine)
    if _is_union(origin):
        if value is None or (type(None) in args and isinstance(value, str) and value.strip().lower() in _NONE):
            if type(None) in args:
                return None
            raise bad
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce_value(a, value, where, strict)
            except OptionError:
                continue
        raise bad
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if hint is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            if strict and abs(value) > MAX_STRICT_INT:
                raise OptionError(where, "an integer (|n| <= 2**53)", value)
            return value
        if isinstance(value, str):
            try:
                return int(value.strip().replace("_", ""))
            except ValueError:
                raise bad from None
        raise bad
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise bad
        try:
            out = float(value)
        except ValueError:
            raise bad from None
        if out != out:
            raise bad
        return out
    if hint is str:
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if not isinstance(value, str):
            raise bad
        return value
    if origin is typing.Literal:
        if isinstance(value, str):
            value = value.strip()
        if value not in args:
            raise bad
        return value
    if origin is tuple:
        return _coerce_tuple(args, value, where, bad, strict)
    if dataclasses.is_dataclass(hint):
        return coerce_options(hint, value, where, strict=strict)
    return value  # a type the command line and config files do not set (callables, mappings)


def _coerce_tuple(args: tuple, value: Any, where: str, bad: OptionError, strict: bool = False) -> tuple:
    if isinstance(value, str):
        value = [] if value.strip().lower() == "none" else [
            v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        raise bad
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(coerce_value(args[0], v, f"{where}[{i}]", strict) for i, v in enumerate(value))
    if len(value) != len(args):
        raise bad
    return tuple(coerce_value(a, v, f"{where}[{i}]", strict) for i, (a, v) in enumerate(zip(args, value)))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def coerce_options(cls: type[T], data: Any, where: str = "", base: T | None = None, *,
                   strict: bool = False) -> T:
    """The options dataclass ``cls`` from a mapping of its fields (nested mappings for nested
    options), applied on ``base`` (default: ``cls()``), then checked by :func:`check_options`.

    An instance of ``cls`` passes through (checked). Unknown keys and values of the wrong
    type raise :class:`OptionError` naming the dotted field, e.g. ``lift.max_layers``.
    ``strict``: see :func:`coerce_value`.
    """
    if isinstance(data, cls):
        check_options(data, where)
        return data
    if not isinstance(data, typing.Mapping):
        raise OptionError(where or cls.__name__, f"an object (mapping) of {cls.__name__} fields", data)
    base = base if base is not None else cls()
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    aliases = {a: f.name for f in fields.values() for a in f.metadata.get("aliases", ())}
    hints = _hints(cls)
    changes: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name in aliases:
            logging.getLogger(__name__).warning("option %r is deprecated: use %r", f"{where}.{name}".lstrip("."),
                                                f"{where}.{aliases[name]}".lstrip("."))
            name = aliases[name]
        path = f"{where}.{name}" if where else name
        if name not in fields:
            raise OptionError(path, f"a field of {cls.__name__}", key, message=f"unknown option {path!r}",
                              hint=f"{cls.__name__} fields are: {', '.join(fields)}")
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(value, typing.Mapping):
            changes[name] = coerce_options(hint, value, path, getattr(base, name), strict=strict)
        else:
            changes[name] = coerce_value(hint, value, path, strict)
    out = dataclasses.replace(base, **changes) if changes else base  # type: ignore[type-var]
    check_options(out, where)
    return out


def check_options(options: Any, where: str = "") -> None:
    """Check every field of an options dataclass (and nested ones) against its type and the
    limits declared with :func:`opt`; OptionError names the first bad field. A class may add
    checks across its fields in a ``_check_fields(self, where)`` method, called last."""
    cls = type(options)
    hints = _hints(cls)
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        path = f"{where}.{f.name}" if where else f"{cls.__name__}.{f.name}"
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, hint):
                raise OptionError(path, f"{hint.__name__}", type(value).__name__)
            check_options(value, path if where else f.name)
            continue
        if coerce_value(hint, value, path) != value or (isinstance(value, bool) and hint is not bool
                                                        and typing.get_origin(hint) is None):
            raise OptionError(path, describe_type(hint), value)
        _check_limits(f.metadata, value, path)
    extra = getattr(options, "_check_fields", None)
    if extra is not None:
        extra(where or cls.__name__)


def _check_limits(meta: typing.Mapping[str, Any], value: Any, path: str) -> None:
    if not meta or value is None:
        return
    if "choices" in meta and value not in meta["choices"]:
        raise OptionError(path, "one of " + ", ".join(repr(c) for c in meta["choices"]), value)
    if "each" in meta:
        lo, hi = meta["each"]
        if not all(lo <= v <= hi for v in value):
            raise OptionError(path, f"values within [{lo:g}, {hi:g}]", value)
    bounds = [(k, meta[k]) for k in ("ge", "gt", "le", "lt") if k in meta]
    if bounds and not all(_ok(op, value, lim) for op, lim in bounds):
        raise OptionError(path, describe_limits(meta), value)


def _ok(op: str, v: float, lim: float) -> bool:
    return {"ge": v >= lim, "gt": v > lim, "le": v <= lim, "lt": v < lim}[op]


def describe_limits(meta: typing.Mapping[str, Any]) -> str:
    """'within [1, 64]', '> 0', 'in (0, 100)': the declared bounds, as a user reads them."""
    lo = ("[", meta["ge"]) if "ge" in meta else ("(", meta["gt"]) if "gt" in meta else None
    hi = ("]", meta["le"]) if "le" in meta else (")", meta["lt"]) if "lt" in meta else None
    if lo and hi:
        return f"within {lo[0]}{lo[1]:g}, {hi[1]:g}{hi[0]}"
    if lo:
        return f"{'>=' if lo[0] == '[' else '>'} {lo[1]:g}"
    if hi:
        return f"{'<=' if hi[0] == ']' else '<'} {hi[1]:g}"
    return ""
