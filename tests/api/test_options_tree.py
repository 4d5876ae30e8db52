"""The one options tree (ConvertOptions): every stage's options reachable, one coercion with
typed errors, limits on the fields, the CLI, config files and manifests through it, and the
effects defects of issue #15."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import paint2vr
from paint2vr.config import check_options, coerce_options, options_to_dict
from paint2vr.errors import OptionError
from paint2vr.pipeline import ConvertOptions, convert_options

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "batch"))


def test_every_stage_options_class_is_reachable():
    from paint2vr.depth import PriorOptions, ReadDepthOptions, TransformersOptions
    from paint2vr.effects import EFFECTS
    from paint2vr.export import ExportOptions
    from paint2vr.lift import LiftOptions
    from paint2vr.painting import LoadOptions
    t = ConvertOptions()
    assert isinstance(t.depth.prior, PriorOptions) and isinstance(t.depth.transformers, TransformersOptions)
    assert isinstance(t.depth.read, ReadDepthOptions) and isinstance(t.lift, LiftOptions)
    assert isinstance(t.export, ExportOptions) and isinstance(t.load, LoadOptions)
    for name, entry in EFFECTS.items():
        assert t.effects.options_for(name) == entry.default, name


def test_coercion_nested_strings_and_typed_errors():
    o = convert_options({"lift": {"max_layers": "3", "adaptive_mesh": "no"}, "depth": {"prior": {"far": "60"},
                         "commercial": "false"}, "effects": "snow,birds", "effect_options": {"snow": {"density": 2}}})
    assert o.lift.max_layers == 3 and o.lift.adaptive_mesh is False  # "no" is False, not truthy
    assert o.depth.prior.far == 60.0 and o.depth.commercial is False
    assert o.effects.names == ("snow", "birds") and o.effects.snow.density == 2.0
    with pytest.raises(OptionError) as e:
        convert_options({"lift": {"max_layers": 0}})
    assert e.value.field == "lift.max_layers" and e.value.actual == 0 and "[1, 64]" in e.value.expected
    with pytest.raises(OptionError, match="unknown option 'lift.maxlayers'") as e:
        convert_options({"lift": {"maxlayers": 3}})
    assert e.value.field == "lift.maxlayers"
    with pytest.raises(OptionError, match="depth.transformers.device"):
        convert_options({"device": "tpu"})
    with pytest.raises(OptionError, match="depth.prior.work_side must be an integer"):
        convert_options({"depth": {"prior": {"work_side": "big"}}})
    with pytest.raises(OptionError, match="true or false"):
        convert_options({"lift": {"adaptive_mesh": "maybe"}})
    with pytest.raises(OptionError, match="effects.snow.color"):
        convert_options({"effects": {"names": ["snow"], "snow": {"color": [2, 0, 0]}}})
    # instances pass through, and are checked
    assert convert_options({"lift": paint2vr.LiftOptions(max_layers=2)}).lift.max_layers == 2
    with pytest.raises(OptionError, match="LiftOptions.max_jump|lift.max_jump"):
        convert_options({"lift": paint2vr.LiftOptions(max_jump=-1.0)})


def test_limits_are_declared_once_on_the_field_and_checked_by_one_validator():
    from paint2vr.lift import LiftOptions
    f = {x.name: x for x in dataclasses.fields(LiftOptions)}
    assert f["max_layers"].metadata["ge"] == 1 and f["max_layers"].metadata["le"] == 64
    with pytest.raises(OptionError):
        check_options(LiftOptions(max_layers=65))
    with pytest.raises(OptionError):
        check_options(LiftOptions(max_layers=True))  # a bool is not an integer


def test_effect_options_without_the_effect_are_an_error():
    # issue #15: '--effect-opt snow.density=2' without '--effects' silently did nothing
    from paint2vr.cli.main import main
    with pytest.raises(OptionError, match="not being added"):
        convert_options({"effect_options": {"snow": {"density": 2}}})
    assert main(["convert", "x.png", "-o", "y.glb", "--effect-opt", "snow.density=2"]) == 2
    # with 'auto' they apply to whichever effects are chosen
    assert convert_options({"effects": "auto", "effect_options": {"snow": {"density": 2}}}).effects.auto


def test_config_file_and_flags(tmp_path):
    from paint2vr.cli.convert_cmd import convert_options_from_args
    from paint2vr.cli.main import build_parser
    toml = tmp_path / "o.toml"
    toml.write_text('seed = 4\n[lift]\nmax_layers = 3\n[depth.prior]\nfar = 50\n[effects]\nnames = ["snow"]\n'
                    '[effects.snow]\ndensity = 1.5\n')
    js = tmp_path / "o.json"
    js.write_text(json.dumps({"lift": {"max_layers": 3}, "export": {"profile": "desktop"}}))
    p = build_parser()
    opts, export = convert_options_from_args(p.parse_args(["convert", "x.png", "-o", "y.glb", "--config", str(toml),
                                                           "--max-layers", "5"]))
    assert opts.seed == 4 and opts.lift.max_layers == 5 and opts.depth.prior.far == 50.0  # flags win
    assert opts.effects.names == ("snow",) and opts.effects.snow.density == 1.5
    opts, export = convert_options_from_args(p.parse_args(["convert", "x.png", "-o", "y.glb", "--config", str(js)]))
    assert export.profile == "desktop" and opts.lift.max_layers == 3
    js.write_text(json.dumps({"lift": {"max_layer": 3}}))
    with pytest.raises(OptionError, match="lift.max_layer"):
        convert_options_from_args(p.parse_args(["convert", "x.png", "-o", "y.glb", "--config", str(js)]))


def test_manifest_options_use_the_same_coercion():
    from paint2vr.batch.worker import item_options
    base = convert_options({"effects": "snow"})
    o = item_options(base, {"lift": {"max_layers": 2}, "effects": "snow,birds", "seed": 7})
    assert o.lift.max_layers == 2 and o.effects.names == ("snow", "birds") and o.seed == 7
    with pytest.raises(OptionError, match="lift.max_layers"):
        item_options(base, {"lift": {"max_layers": 99}})
    for strict in ({"lift": {"max_layers": "2"}}, {"lift": {"adaptive_mesh": "no"}}):  # JSON has its types
        with pytest.raises(OptionError):
            item_options(base, strict)
    with pytest.raises(paint2vr.InputError, match="cannot be set per item"):
        item_options(base, {"depth": {"file": "x.png"}})


def _painting(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    img = np.zeros((96, 128, 3), np.uint8)
    img[:40] = (140, 180, 230)
    img[40:] = (60, 110, 40)
    img = np.clip(img + rng.normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "p.png"
    Image.fromarray(img).save(path)
    return path


def test_provenance_records_the_whole_tree_and_lift_uses_the_priors_camera(tmp_path):
    path = _painting(tmp_path)
    scene = paint2vr.convert(path, depth={"hints": {"fov_deg": 70.0, "eye_height": 2.0}})
    rec = scene.provenance["options"]
    assert rec == options_to_dict(convert_options({"depth": {"hints": {"fov_deg": 70.0, "eye_height": 2.0}}}))
    assert rec["depth"]["hints"]["fov_deg"] == 70.0 and "transformers" in rec["depth"] and "snow" in rec["effects"]
    assert "fov_deg" not in rec["depth"]["prior"]  # one name per concept: the hints' former places are not recorded
    # issue #15: lift read extras['fov_deg'] which no estimator wrote; now the prior's camera is used
    res = scene.provenance["lift_result"]
    assert res["fov_deg"] == 70.0 and res["eye_height"] == 2.0 and res["horizon_row"] is not None
    assert scene.camera.position[1] == 2.0


def test_one_near_far_default():
    from paint2vr.depth import PriorOptions, ReadDepthOptions
    assert (PriorOptions().near, PriorOptions().far) == (ReadDepthOptions().near, ReadDepthOptions().far)


def test_effect_repr_is_short(tmp_path):
    scene = paint2vr.convert(_painting(tmp_path), effects="snow,birds")
    for e in scene.effects:
        assert len(repr(e)) < 200, repr(e)[:300]
        assert e.name in repr(e)
    for layer in scene.layers:
        assert len(repr(layer)) < 200 and len(repr(layer.node.mesh)) < 200


def test_effects_list_command(capsys):
    from paint2vr.cli.main import main
    from paint2vr.effects import EFFECTS
    assert main(["effects", "list"]) == 0
    out = capsys.readouterr().out
    for name in EFFECTS:
        assert f"\n{name} " in "\n" + out, name
    assert "snow.density=1" in out and "birds.count=" in out and "within [0.01, 10]" in out
    assert "None" not in out and "<class" not in out


def test_effects_auto_says_what_it_chose(tmp_path, capsys, caplog):
    from paint2vr.cli.main import main
    out = tmp_path / "s.glb"
    with caplog.at_level("INFO", logger="paint2vr.effects"):
        assert main(["convert", str(_painting(tmp_path)), "-o", str(out), "--effects", "auto",
                     "--max-triangles", "20000", "--no-world"]) == 0
    text = capsys.readouterr().out
    assert "effects auto:" in text and "birds (open sky" in text
    assert any("auto effects: birds, because" in r.getMessage() for r in caplog.records)


def test_batch_sidecar_holds_the_glbs_record(tmp_path):
    from batch_fakes import make_items, write_manifest
    from paint2vr.batch import BatchOptions, run_batch
    from paint2vr.export.provenance import PROVENANCE_KEY
    m = write_manifest(tmp_path / "in" / "m.csv", make_items(tmp_path / "in", 1))
    tree = convert_options({"export": {"sidecar": True}, "lift": {"max_triangles": 20000}})
    run_batch(m, tmp_path / "out", BatchOptions(inline=True), tree, tree.export)
    glb = next((tmp_path / "out").rglob("*.glb"))
    side = json.loads(glb.with_name(glb.stem + ".provenance.json").read_text())
    data = glb.read_bytes()
    n = int.from_bytes(data[12:16], "little")
    gltf = json.loads(data[20:20 + n])
    assert side == gltf["asset"]["extras"][PROVENANCE_KEY]


def test_every_stage_module_follows_the_contract():
    import inspect
    from paint2vr import painting
    from paint2vr import export
    from paint2vr.depth import stage as depth_stage
    from paint2vr.effects import stage as effects_stage
    from paint2vr.lift import stage as lift_stage
    from paint2vr.pipeline import PIPELINE
    for mod, name, default in ((painting, "load", "DEFAULT_LOAD_OPTIONS"), (depth_stage, "depth", "DEFAULT_DEPTH_OPTIONS"),
                               (lift_stage, "lift", "DEFAULT_LIFT_OPTIONS"),
                               (effects_stage, "effects", "DEFAULT_EFFECTS_OPTIONS"),
                               (export, "export", "DEFAULT_EXPORT_OPTIONS")):
        assert mod.NAME == name
        opts = getattr(mod, default)
        assert dataclasses.is_dataclass(opts) and type(opts).__dataclass_params__.frozen
        params = list(inspect.signature(mod.stage).parameters.values())
        assert params[1].name == "options" and params[1].default == opts, name
    assert [n for n, _ in PIPELINE] == ["depth", "lift", "effects"]


def test_one_name_per_concept_with_deprecated_aliases(caplog):
    from paint2vr.cli.convert_cmd import convert_options_from_args
    from paint2vr.cli.main import build_parser
    from paint2vr.export import ExportOptions
    from paint2vr.lift import LiftOptions
    assert "walkable_radius" in {f.name for f in dataclasses.fields(LiftOptions)}
    assert "max_texture" in {f.name for f in dataclasses.fields(ExportOptions)}
    with caplog.at_level("WARNING"):
        o = convert_options({"lift": {"walk_radius": 0.3}, "export": {"texture_size": 512}})
    assert o.lift.walkable_radius == 0.3 and o.export.max_texture == 512
    assert any("deprecated" in r.getMessage() for r in caplog.records)
    p = build_parser()
    o, e = convert_options_from_args(p.parse_args(["convert", "x.png", "-o", "y.glb", "--walk-radius", "0.2",
                                                   "--texture-size", "256"]))
    assert o.lift.walkable_radius == 0.2 and e.max_texture == 256
    o, e = convert_options_from_args(p.parse_args(["convert", "x.png", "-o", "y.glb", "--walkable-radius", "0.4",
                                                   "--export-max-texture", "128", "--max-texture", "2048"]))
    assert o.lift.walkable_radius == 0.4 and e.max_texture == 128 and o.lift.max_texture == 2048


def test_learned_model_options_are_checked_before_any_weights_load(monkeypatch, tmp_path):
    from paint2vr.depth import TransformersOptions, get_estimator
    from paint2vr.depth import transformers_backend as tb
    from paint2vr.depth.transformers_backend import TransformersEstimator
    monkeypatch.setattr(tb, "load_checkpoint", lambda *a, **k: pytest.fail("loaded before checking options"))
    for bad in (TransformersOptions(batch_size=0), TransformersOptions(device="tpu"),
                TransformersOptions(fit_side=2), TransformersOptions(kind="metres")):
        with pytest.raises(OptionError):
            TransformersEstimator(tmp_path, options=bad)
        with pytest.raises(OptionError):
            get_estimator(str(tmp_path), options=bad)
