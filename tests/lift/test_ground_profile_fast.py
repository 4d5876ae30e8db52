"""The ground's colour profile (LUT and one matrix product per row) against the direct sums."""

import numpy as np

from paint2vr.lift.ground import ground_profile, ground_profile_reference
from paint2vr.samples import make_scene
from paint2vr.scene import camera_for_image


def test_ground_profile_matches_reference():
    rgb, dep, sky = make_scene("landscape", 300, 200, seed=1)
    cam = camera_for_image(300, 200)
    for y, depth in [(0.0, dep.astype(np.float32)), (-0.3, np.full(dep.shape, 4.0, np.float32))]:
        d, g = ground_profile(rgb, depth, sky, cam, y, np.array([120.0, 110.0, 90.0]))
        rd, rg = ground_profile_reference(rgb, depth, sky, cam, y, np.array([120.0, 110.0, 90.0]))
        assert len(d) > 2 and d.shape == rd.shape and g.shape == rg.shape
        np.testing.assert_allclose(d, rd, rtol=1e-12)
        np.testing.assert_allclose(g, rg, rtol=1e-4, atol=1e-6)
