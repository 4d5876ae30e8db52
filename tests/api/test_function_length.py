"""No function in paint2vr/ is longer than 80 lines (issue #15): long functions hide steps
that deserve a name and a test."""

from __future__ import annotations

import ast
from pathlib import Path

import paint2vr

PKG = Path(paint2vr.__file__).parent
MAX_LINES = 80


def long_functions(limit: int = MAX_LINES, root: Path = PKG) -> list[str]:
    """'path:line name (N lines)' of every function or method over ``limit`` lines
    (decorators and docstrings included, as a reader sees them)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                n = node.end_lineno - first + 1
                if n > limit:
                    out.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_function_over_80_lines():
    assert not long_functions(), "\n".join(long_functions())


def test_the_measure_sees_long_functions_and_methods(tmp_path):
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_LINES - 1))
    (tmp_path / "m.py").write_text(f"class C:\n    @staticmethod\n    def f():\n{body}\n\n"
                                   f"def g():\n    return 1\n")
    assert long_functions(root=tmp_path) == ["m.py:3 f (81 lines)"]
    assert long_functions(limit=81, root=tmp_path) == []
