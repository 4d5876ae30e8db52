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
import textwrap
from typing import Any, TypeVar

from .errors import InputError

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


def options_to_dict(options: Any) -> dict[str, Any]:
    """A JSON-ready dict of an options dataclass (tuples become lists), for provenance."""
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v
    return plain(options)
