"""paint2vr effects list: every effect, what it does and its options with their defaults."""

from __future__ import annotations

import argparse
import dataclasses

from ..config import describe_limits, field_docs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("effects", help="list the effects and their options",
                       description="List the animated effects ('--effects NAME,...') with a line on each and "
                                   "their options with defaults (set them with --effect-opt EFFECT.FIELD=VALUE).")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("list", help="every effect with its options and defaults")
    ls.add_argument("--brief", action="store_true", help="names and one-line descriptions only")
    p.set_defaults(run=run, action="list", brief=False)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, tuple):
        return ",".join(_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def effect_lines(brief: bool = False) -> list[str]:
    """The listing, from the options tree (EffectsOptions: one field per effect)."""
    from ..effects.stage import EffectsOptions
    from ..effects.registry import EFFECTS
    tree_docs = field_docs(EffectsOptions)
    lines: list[str] = []
    for f in dataclasses.fields(EffectsOptions):
        if f.name == "names":
            continue
        lines.append(f"{f.name:<10} {tree_docs.get(f.name) or EFFECTS[f.name].summary}")
        if brief:
            continue
        docs = field_docs(type(f.default))
        for g in dataclasses.fields(f.default):
            limits = describe_limits(g.metadata)
            doc = docs.get(g.name, "").replace("``", "").split(". ")[0].rstrip(".")
            lines.append(f"    {f.name}.{g.name}={_value(getattr(f.default, g.name))}"
                         f"{'  (' + limits + ')' if limits else ''}  {doc}")
    return lines


def run(args: argparse.Namespace) -> int:
    print("\n".join(effect_lines(args.brief)))
    print("\nUse: paint2vr convert PAINTING -o x.glb --effects snow,birds --effect-opt snow.density=2 "
          "(or --effects auto)")
    return 0
