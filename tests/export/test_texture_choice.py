"""Which KTX2 textures get UASTC (export/texture_choice.py): the greedy choice on constructed
cases, against its slow reference, the start view's shares, and bad input."""

import math

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.export.texture_choice import (Candidate, TextureChoiceOptions, choose_uastc, choose_uastc_reference,
                                            mse_at, predicted_psnr, view_shares, within_budget)

from scene_factory import small_scene

# budget = 0.25 * (4 * 100 kB) = 100 kB of UASTC bytes over ETC1S
CANDS = [
    Candidate(view_share=0.40, etc1s_bytes=100_000, etc1s_mse=mse_at(32), uastc_bytes=160_000),  # gain/byte high
    Candidate(view_share=0.10, etc1s_bytes=100_000, etc1s_mse=mse_at(31), uastc_bytes=130_000),  # cheap
    Candidate(view_share=0.50, etc1s_bytes=100_000, etc1s_mse=mse_at(36), uastc_bytes=300_000),  # over budget
    Candidate(view_share=0.00, etc1s_bytes=100_000, etc1s_mse=mse_at(20), uastc_bytes=110_000),  # not shown
]
OPTS = TextureChoiceOptions(budget_fraction=0.25, target_psnr=40.0, floor_psnr=30.0, uastc_psnr=38.0)


def test_greedy_takes_the_best_gain_per_byte_that_fits():
    # slopes: 0.4*(41.1-10.3)/60k = 2.05e-4, 0.1*(51.7-10.3)/30k = 1.38e-4, 0.5*(16.3-10.3)/200k = 1.5e-5
    assert choose_uastc(CANDS, OPTS) == [0, 1]  # 2 does not fit the 100 kB, 3 is not shown
    assert choose_uastc_reference(CANDS, OPTS) == [0, 1]
    # a smaller budget skips 0 (60 kB) and still takes the cheaper 1 (30 kB)
    small = TextureChoiceOptions(budget_fraction=0.1, target_psnr=40.0)
    assert choose_uastc(CANDS, small) == choose_uastc_reference(CANDS, small) == [1]
    assert choose_uastc(CANDS, TextureChoiceOptions(budget_fraction=0.0, target_psnr=40.0)) == []


def test_the_floor_and_the_target_psnr():
    # a shown texture below the floor is taken first, whatever the budget
    low = [*CANDS[:3], Candidate(0.05, 100_000, mse_at(28), 500_000)]
    zero = TextureChoiceOptions(budget_fraction=0.0, target_psnr=40.0)
    assert choose_uastc(low, zero) == choose_uastc_reference(low, zero) == [3]
    # the target: ETC1S alone predicts 33.4 dB; one upgrade (texture 0) reaches 35.7 dB
    shares = np.array([c.view_share for c in CANDS])
    mse = np.array([c.etc1s_mse for c in CANDS])
    assert predicted_psnr(shares, mse) == pytest.approx(33.40, abs=0.01)
    stop = TextureChoiceOptions(budget_fraction=0.25, target_psnr=35.0)
    assert choose_uastc(CANDS, stop) == choose_uastc_reference(CANDS, stop) == [0]
    assert choose_uastc(CANDS, TextureChoiceOptions(target_psnr=33.0)) == []


def test_greedy_matches_its_reference_on_random_cases():
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(1, 9))
        cands = [Candidate(float(s), int(b), mse_at(float(p)), float(b * r))
                 for s, b, p, r in zip(rng.dirichlet(np.ones(n)) * rng.uniform(0.5, 1), rng.integers(1, 200_000, n),
                                       rng.uniform(27, 40, n), rng.uniform(1, 5, n))]
        opts = TextureChoiceOptions(budget_fraction=float(rng.uniform(0, 1)), target_psnr=float(rng.uniform(30, 45)))
        assert choose_uastc(cands, opts) == choose_uastc_reference(cands, opts)


def test_within_budget_keeps_the_floor_and_drops_what_the_actual_bytes_overflow():
    actual = [Candidate(0.4, 100_000, mse_at(32), 185_000), Candidate(0.1, 100_000, mse_at(31), 130_000),
              *CANDS[2:3], Candidate(0.05, 100_000, mse_at(28), 500_000)]
    # floor (3) kept over budget; 0 adds 85 kB, then 1 (30 kB) no longer fits the 100 kB
    assert within_budget(actual, [3, 0, 1], OPTS) == [3]
    assert within_budget(actual, [0, 1], OPTS) == [0]
    assert within_budget(actual[:2], [1, 0], TextureChoiceOptions(budget_fraction=1.0)) == [1, 0]


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="share"):
        choose_uastc([Candidate(1.5, 10, 1.0, 20)])
    with pytest.raises(InputError, match="MSE"):
        choose_uastc([Candidate(0.5, 10, math.nan, 20)])
    with pytest.raises(InputError, match="budget_fraction"):
        choose_uastc(CANDS, TextureChoiceOptions(budget_fraction=-0.1))
    with pytest.raises(InputError, match="target_psnr"):
        choose_uastc(CANDS, TextureChoiceOptions(target_psnr=math.inf))
    assert choose_uastc([]) == []


def test_view_shares_count_what_the_start_view_shows():
    # small_scene: a 2 m quad 3 m ahead whose right half is cut out (alpha 0), the sky behind it
    scene = small_scene(with_effect=False)
    layer, sky = scene.layers[0].node.mesh, scene.layers[1].node.mesh
    shares = view_shares(scene, [layer.texture, sky.texture, np.zeros((4, 4, 3), np.uint8)],
                         lambda n: n.mesh, width=scene.camera.width)
    cam = scene.camera
    half = cam.focal / 3.0  # the quad's half side in pixels
    expect = half * 2 * half / (cam.width * cam.height)  # its shown left half
    assert shares[0] == pytest.approx(expect, rel=0.1)
    assert shares[0] + shares[1] == pytest.approx(1.0)  # the sky shows everywhere else
    assert shares[2] == 0.0  # a texture no mesh draws


def test_the_quest_writer_upgrades_what_the_view_shows_not_what_it_hides():
    import json
    import struct

    from paint2vr.codecs.ktx2 import ktx2_info
    from paint2vr.export import ExportOptions, export_bytes
    from paint2vr.scene import Layer, Node

    from scene_factory import quad
    scene = small_scene(with_effect=False)  # its two noise textures are shown: ETC1S ~11 dB, below the floor
    noise = np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    behind = quad("behind", -3.0, 2.0, noise)  # behind the visitor: not in the start view
    scene.layers.append(Layer("behind", Node("behind", behind), (3, 3)))
    data = export_bytes(scene, ExportOptions(profile="quest"))
    n = struct.unpack_from("<I", data, 12)[0]
    doc, blob = json.loads(data[20:20 + n]), data[28 + n:]
    codecs = []
    for image in doc["images"]:
        view = doc["bufferViews"][image["bufferView"]]
        off = view.get("byteOffset", 0)
        codecs.append(ktx2_info(blob[off:off + view["byteLength"]]).codec)
    assert codecs == ["uastc", "uastc", "etc1s"]
