"""Docs and hints name only flags that exist (issue #15: '--triangle-budget' where the flag is
'--max-triangles', 'EXIT_CODES' that was never defined)."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import paint2vr
from paint2vr.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
PKG = Path(paint2vr.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9](?![\w*-])")
COMMAND = re.compile(r"\bpaint2vr (convert|depth|effects|models|inspect|view|preview|batch|bench)\b")


def cli_flags() -> set[str]:
    def walk(p: argparse.ArgumentParser) -> set[str]:
        out: set[str] = set()
        for a in p._actions:
            out |= set(a.option_strings)
            if isinstance(a, argparse._SubParsersAction):
                for sp in a.choices.values():
                    out |= walk(sp)
        return out
    return walk(build_parser())


def test_docs_name_only_existing_flags():
    flags = cli_flags()
    bad = []
    for doc in [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = re.sub(r"\\\n\s*", " ", doc.read_text(encoding="utf-8"))  # join continued command lines
        for n, line in enumerate(text.splitlines(), 1):
            if any(tool in line for tool in ("python -m", "pip ", "setup.sh", "curl ", "npm ")):
                continue  # other programs' flags (benchmarks, pip, curl, npm)
            bad += [f"{doc.name}:{n}: {f}" for f in FLAG.findall(line) if f not in flags]
    assert not bad, "\n".join(bad)


def test_library_hints_name_only_existing_flags():
    flags = cli_flags()
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and not re.fullmatch(r"--[\w-]+(=.*)?", node.value):  # an argument of another program
                bad += [f"{path.relative_to(PKG)}:{node.lineno}: {f}" for f in FLAG.findall(node.value)
                        if f not in flags and not f.startswith("--no-")]
    assert not bad, "\n".join(bad)


def test_no_exit_codes_table_is_promised():
    text = (PKG / "errors.py").read_text(encoding="utf-8")
    assert "EXIT_CODES" not in text or hasattr(paint2vr.errors, "EXIT_CODES")


def test_the_checks_catch_a_missing_flag():
    assert "--triangle-budget" not in cli_flags() and "--max-triangles" in cli_flags()
    assert FLAG.findall("lower --triangle-budget or pick --profile desktop") == ["--triangle-budget", "--profile"]
