"""The birds' batched candidate paths against the one-by-one reference :func:`_paths`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from effects_scenes import make_scene

from paint2vr.effects import BirdsOptions, scene_space
from paint2vr.effects.birds import KEYS, _draw_path, _paths, _paths_batch
from paint2vr.effects.timeline import loop_times


def test_paths_batch_equals_one_by_one_paths_and_stream():
    space = scene_space(make_scene(hill=3.0))
    for o in (BirdsOptions(), replace(BirdsOptions(), count=3, spread=1.5, loop_seconds=5.0)):
        t = loop_times(o.loop_seconds, KEYS).astype(np.float64)
        for seed in range(3):
            ref_rng, rng = np.random.default_rng(seed), np.random.default_rng(seed)
            plan = [(1, 1.0), (2, 1.0), (4, 0.7), (4, 0.49)]
            ref = np.stack([_paths(ref_rng, space, o, t, laps, shrink) for laps, shrink in plan])
            got = _paths_batch(space, o, t, [_draw_path(rng, space, o, laps, shrink) for laps, shrink in plan])
            assert got.shape == (len(plan), o.count, KEYS + 1, 3)
            np.testing.assert_array_equal(got, ref)
            draws = [_draw_path(np.random.default_rng(seed), space, o, laps, shrink) for laps, shrink in plan[:1]]
            for step in (4, 16):  # paths at a subset of the keys: the same values as the full path there
                np.testing.assert_array_equal(_paths_batch(space, o, t[::step], draws), got[:1, :, ::step])
            assert rng.random() == ref_rng.random()  # both left the stream at the same place
