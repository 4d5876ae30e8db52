"""Fixtures of the depth tests: a tiny randomly initialised Depth Anything model saved the way
real checkpoints are (safetensors + config + preprocessor config), and no network."""

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-da")
    bb = transformers.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                   intermediate_size=64, image_size=56, patch_size=14,
                                   out_features=["stage1", "stage2"], reshape_hidden_states=False)
    cfg = transformers.DepthAnythingConfig(backbone_config=bb, reassemble_hidden_size=32, neck_hidden_sizes=[8, 16],
                                           reassemble_factors=[4, 2], fusion_hidden_size=16, head_hidden_size=8)
    torch.manual_seed(0)
    transformers.DepthAnythingForDepthEstimation(cfg).save_pretrained(folder, safe_serialization=True)
    (folder / "preprocessor_config.json").write_text(
        '{"image_processor_type": "DPTImageProcessor", "size": {"height": 56, "width": 56},'
        ' "keep_aspect_ratio": true, "ensure_multiple_of": 14, "image_mean": [0.5, 0.5, 0.5],'
        ' "image_std": [0.5, 0.5, 0.5], "do_normalize": true, "do_rescale": true}')
    return folder


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No test here may reach a model hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def trained_model():
    """The tiny Depth Anything trained on synthetic scenes by scripts/train_tiny_depth.py
    (about 80 s of one core, once: cached under ~/.cache/paint2vr/test-models, or
    $PAINT2VR_TEST_MODELS, keyed by the script's hash)."""
    import subprocess
    import sys
    from pathlib import Path
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    script = Path(__file__).resolve().parents[2] / "scripts" / "train_tiny_depth.py"
    from p2v_testing import reproducible_env
    env = reproducible_env(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")   # the same model on every CPU
    out = subprocess.run([sys.executable, str(script), "--cached"], capture_output=True, text=True, env=env,
                         timeout=3600)
    if out.returncode:
        pytest.fail(f"training the tiny depth model failed:\n{out.stderr[-3000:]}")
    return Path(out.stdout.strip().splitlines()[-1])
