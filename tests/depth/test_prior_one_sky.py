"""One sky (prior 5.2): sky seen through a gap must look like the sky open to the top edge."""

import cv2
import numpy as np

from paint2vr.depth.sky import one_sky, one_sky_reference


def scene():
    """A blue sky paling downwards over rows 0-59 with a white cloud on the top edge, two
    dark trees whose crowns meet at row 25 and leave a gap of sky below them (rows 30-59),
    and a pale warm wall (rows 40-79, no sky) that the colour cues took for sky."""
    h, w = 100, 120
    rgb = np.zeros((h, w, 3), np.uint8)
    t = np.linspace(0.0, 1.0, 60)[:, None]
    rgb[:60] = (np.array([90, 140, 220]) * (1 - t) + np.array([190, 210, 235]) * t)[:, None, :].astype(np.uint8)
    rgb[60:] = (70, 90, 40)                                           # meadow
    rgb[0:12, 10:40] = (245, 245, 245)                                 # a cloud on the top edge
    rgb[12:14, 10:40] = (160, 180, 220)                               # its shaded rim (no sky)
    rgb[25:60, 55:60] = rgb[25:60, 75:80] = (30, 50, 25)              # two trunks
    rgb[25:30, 55:80] = (30, 50, 25)                                  # crowns meeting over the gap
    rgb[40:80, 95:115] = (215, 200, 170)                              # the pale wall
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    sky = np.zeros((h, w), bool)
    sky[:60] = True
    sky[12:14, 10:40] = False
    sky[25:60, 55:60] = sky[25:60, 75:80] = sky[25:30, 55:80] = False
    sky[40:80, 95:115] = True                                         # the wall, wrongly
    sky[36:40, 90:120] = False                                        # ... cut off from the sky
    sky[36:80, 90:95] = False
    sky[40:60, 115:120] = False
    return sky, lab


def test_the_gap_and_the_cloud_stay_sky_and_the_pale_wall_does_not():
    sky, lab = scene()
    out = one_sky(sky, lab)
    assert out[35:60, 62:73].all()                                   # sky through the gap, paler than above
    assert out[0:12, 10:40].all()                                     # the cloud reaches the top edge
    assert out[0:20, 50:110].all()                                    # the open sky
    assert not out[40:80, 95:115].any()                              # the wall is land
    assert (out <= sky).all()


def test_without_open_sky_the_mask_is_kept():
    sky, lab = scene()
    sky[:1] = False
    sky[:36] = False
    assert np.array_equal(one_sky(sky, lab), sky)


def test_one_sky_matches_the_reference():
    rng = np.random.default_rng(3)
    for seed in range(6):
        noise = cv2.GaussianBlur(rng.random((40, 50)).astype(np.float32), (0, 0), 2.0)
        sky = noise > np.percentile(noise, 55)
        lab = np.stack([rng.uniform(20, 95, (40, 50)), rng.uniform(-20, 20, (40, 50)),
                        rng.uniform(-30, 30, (40, 50))], -1).astype(np.float32)
        lab = cv2.GaussianBlur(lab, (0, 0), 3.0)
        for diff in (1.0, 2.0, 4.0):                                  # parts dropped at each
            assert np.array_equal(one_sky(sky, lab, diff), one_sky_reference(sky, lab, diff)), (seed, diff)
