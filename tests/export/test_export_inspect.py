"""inspect_file and 'paint2vr inspect' on known files (exact numbers)."""

import argparse
import json

import pytest

from paint2vr.cli import inspect_cmd
from paint2vr.errors import InputError
from paint2vr.export import ExportOptions, save_scene
from paint2vr.export.inspect import inspect_file

from scene_factory import PLAIN, grid_scene, small_scene


def _cli(argv):
    parser = argparse.ArgumentParser()
    inspect_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["inspect", *argv])
    return args.run(args)


@pytest.mark.parametrize("suffix", [".glb", ".gltf"])
def test_inspect_known_file(tmp_path, suffix):
    out = save_scene(small_scene(), tmp_path / f"s{suffix}", ExportOptions(**PLAIN))
    rep = inspect_file(out)
    assert rep.format == suffix[1:]
    assert rep.file_bytes == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert rep.layers == ["layer0", "sky"]
    assert (rep.triangles, rep.points, rep.draw_calls, rep.cameras) == (5, 0, 3, 1)
    assert (rep.layer_draw_calls, rep.effect_draw_calls, rep.meshes, rep.morph_targets) == (2, 1, 3, 1)
    assert rep.morph_bytes == 3 * 12  # dense: sparse would cost more than 3 vertices
    assert [(t.width, t.height, t.mime) for t in rep.textures] == [(16, 16, "image/png"), (16, 16, "image/jpeg")]
    assert [(a.name, a.duration, a.channels) for a in rep.animations] == [("birds", 2.0, 2)]
    assert rep.copyright == "Nobody, Test, CC0"
    assert rep.provenance["source"]["sha256"] == "ab" * 32
    assert rep.profile == "quest" and rep.within_budget
    assert [(b.name, b.value, b.limit) for b in rep.budgets] == [
        ("triangles", 5, 300_000), ("draw calls", 3, 64), ("texture px", 16, 2048),
        ("file MiB", round(rep.file_bytes / 2**20, 2), 48.0), ("texture MiB", 0.0, 96.0)]
    assert rep.texture_gpu_bytes == rep.texture_rgba8_bytes == 2 * 4 * sum(4**k for k in range(5))
    text = rep.format_report()
    for line in ("  title:       Test", "  artist:      Nobody", "  licence:     CC0", "  triangles:   5",
                 "  draw calls:  3 (layers 2, effects 1)", "  textures:    2 (16x16 png, 16x16 jpeg)", "    birds: 2.00 s, 2 channels",
                 "  layers:      2 (layer0, sky)", "  budgets (quest): within"):
        assert line in text.splitlines(), line


def test_inspect_depth_model_and_profile_override(tmp_path):
    out = save_scene(grid_scene(), tmp_path / "g.glb", ExportOptions(profile="desktop"))
    rep = inspect_file(out)
    assert rep.profile == "desktop"
    assert "  depth model: prior rev 1 (Apache-2.0)" in rep.format_report().splitlines()
    over = inspect_file(out, profile="splat")
    assert over.profile == "splat" and over.budgets[-1].name == "points"
    with pytest.raises(InputError, match="unknown export profile"):
        inspect_file(out, profile="nope")


def test_cli_inspect_text_and_json(tmp_path, capsys):
    out = save_scene(small_scene(), tmp_path / "s.glb")
    assert _cli([str(out)]) == 0
    assert "  triangles:   5" in capsys.readouterr().out.splitlines()
    assert _cli([str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["triangles"] == 5 and data["draw_calls"] == 3 and data["within_budget"] is True
    assert data["provenance"]["export"]["profile"] == "quest"


def test_cli_inspect_over_budget_exit_code(tmp_path, capsys, monkeypatch):
    from paint2vr.export.profiles import PROFILES, Profile
    out = save_scene(small_scene(), tmp_path / "s.glb")
    monkeypatch.setitem(PROFILES, "quest", Profile("quest", "mesh", 4, 64, 2048, 48.0))
    assert _cli([str(out)]) == 1
    assert "triangles" in capsys.readouterr().out


def test_inspect_bad_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        inspect_file(tmp_path / "missing.glb")
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"\x00\x01not gltf")
    with pytest.raises(InputError, match="not a glTF file"):
        inspect_file(junk)


def test_export_flags_do_not_clash_with_other_stages():
    # convert adds the lift, export and load options to one parser: names must be unique
    from paint2vr.cli.options import add_options
    from paint2vr.export import ExportOptions
    from paint2vr.painting import LoadOptions
    lift = pytest.importorskip("paint2vr.lift")
    parser = argparse.ArgumentParser()
    for cls in (lift.LiftOptions, ExportOptions, LoadOptions):
        add_options(parser, cls)
    args = parser.parse_args(["--profile", "splat", "--no-reduce", "--texture-size", "512",
                              "--splat-attributes", "ratified"])
    from paint2vr.cli.options import options_from_args
    assert options_from_args(args, ExportOptions) == ExportOptions(
        profile="splat", reduce=False, max_texture=512, splat_attributes="ratified")
