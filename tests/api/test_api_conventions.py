"""Library-wide conventions: public API, documented options, CLI built from them, no prints."""

import ast
import dataclasses
import importlib
import pkgutil
from pathlib import Path

import pytest

import paint2vr
from paint2vr.cli.main import build_parser
from paint2vr.config import field_docs

PKG = Path(paint2vr.__file__).parent


def _modules():
    for info in pkgutil.walk_packages([str(PKG)], prefix="paint2vr."):
        yield importlib.import_module(info.name)


def _options_classes():
    seen = {}
    for mod in _modules():
        for name, obj in vars(mod).items():
            if (isinstance(obj, type) and dataclasses.is_dataclass(obj) and name.endswith("Options")
                    and obj.__module__ == mod.__name__):
                seen[f"{mod.__name__}.{name}"] = obj
    return seen


def test_all_lists_only_existing_names():
    for name in paint2vr.__all__:
        assert hasattr(paint2vr, name), name


def test_every_options_field_has_a_docstring_and_a_default():
    classes = _options_classes()
    assert len(classes) >= 6
    for qual, cls in classes.items():
        docs = field_docs(cls)
        params = cls.__dataclass_params__
        assert params.frozen, f"{qual} must be frozen"
        for f in dataclasses.fields(cls):
            assert docs.get(f.name), f"{qual}.{f.name} has no docstring"
            assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING, \
                f"{qual}.{f.name} has no default"


def _subparser(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices[name]


def _tree_leaves(cls, path=""):
    import typing
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        sub = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _tree_leaves(hints[f.name], sub)
        else:
            yield sub, f


def test_convert_flags_are_generated_from_the_options_tree():
    from paint2vr.cli.options import DEST
    from paint2vr.export import ExportOptions
    from paint2vr.pipeline import ConvertOptions

    p = _subparser("convert")
    dests = {a.dest: a for a in p._actions}
    flags = {s for a in p._actions for s in a.option_strings}
    n = 0
    for path, f in _tree_leaves(ConvertOptions):
        if path.startswith("effects.") and path != "effects.names":
            continue  # per-effect options: --effect-opt
        assert DEST + path in dests, f"convert has no flag for {path}"
        n += 1
    assert n >= 50
    # the flags users and docs know keep their names
    for flag in ("--model", "--depth", "--device", "--commercial", "--seed", "--effects", "--max-layers",
                 "--max-triangles", "--profile", "--max-side", "--prior-far", "--depth-far", "--model-input-size"):
        assert flag in flags, flag
    # grouped by stage in --help, free of Python internals
    text = p.format_help()
    for title in ("depth: the built-in prior", "lifting", "effects", "export", "image loading"):
        assert title in text
    for internal in ("<class", "None", "True", "False", "OPT:", "``"):
        assert internal not in text, internal
    # Nothing typed means exactly the dataclass defaults: defaults live in one place.
    from paint2vr.cli.convert_cmd import convert_options_from_args
    args = p.parse_args(["x.png", "-o", "y.glb"])
    opts, export = convert_options_from_args(args)
    assert opts == ConvertOptions()
    assert export == ExportOptions()
    args = p.parse_args(["x.png", "-o", "y.glb", "--seed", "5", "--effects", "snow,birds", "--profile", "desktop",
                         "--prior-far", "60", "--no-adaptive-mesh", "--effect-opt", "snow.density=2"])
    opts, export = convert_options_from_args(args)
    assert opts.seed == 5 and opts.effects.names == ("snow", "birds") and export.profile == "desktop"
    assert opts.depth.prior.far == 60.0 and opts.lift.adaptive_mesh is False and opts.effects.snow.density == 2.0


class _Forbidden(ast.NodeVisitor):
    def __init__(self):
        self.found = []

    def visit_Assert(self, node):
        self.found.append(("assert", node.lineno))

    def visit_Call(self, node):
        f = node.func
        if isinstance(f, ast.Name) and f.id in ("print", "exit", "quit"):
            self.found.append((f.id, node.lineno))
        if isinstance(f, ast.Attribute) and f.attr == "exit" and getattr(f.value, "id", "") == "sys":
            self.found.append(("sys.exit", node.lineno))
        self.generic_visit(node)


def test_library_code_never_prints_asserts_or_exits():
    bad = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "cli" or rel.name == "__main__.py":
            continue  # the CLI does the talking
        v = _Forbidden()
        v.visit(ast.parse(path.read_text()))
        bad += [f"{rel}:{line}: {what}" for what, line in v.found]
    assert not bad, "\n".join(bad)


def test_errors_form_one_hierarchy_with_hints():
    for name in ("InputError", "ImageLoadError", "ModelError", "LicenseError", "BudgetError", "BatchError"):
        cls = getattr(paint2vr, name)
        assert issubclass(cls, paint2vr.Paint2VRError)
        err = cls("what went wrong", hint="what to do")
        assert str(err) == "what went wrong (what to do)"
    with pytest.raises(paint2vr.InputError, match="unknown option"):
        paint2vr.convert("x.png", not_an_option=1)
