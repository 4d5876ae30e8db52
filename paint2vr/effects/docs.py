"""The options tables of docs/effects.md, generated from the dataclasses (a test keeps them equal)."""

from __future__ import annotations

import dataclasses

from ..config import field_docs


def options_markdown() -> str:
    """One Markdown section per registered effect: summary and an options table."""
    from .registry import EFFECTS
    out = []
    for name, entry in EFFECTS.items():
        docs = field_docs(entry.options_class)
        out.append(f"### `{name}`: {entry.summary}\n")
        out.append("| option | default | meaning |\n|---|---|---|")
        for f in dataclasses.fields(entry.options_class):
            v = getattr(entry.default, f.name)
            if isinstance(v, tuple):
                v = ",".join(f"{x:g}" for x in v)
            out.append(f"| `{name}.{f.name}` | `{v}` | {docs.get(f.name, '')} |")
        out.append("")
    return "\n".join(out)
