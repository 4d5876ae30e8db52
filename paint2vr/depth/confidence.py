"""How sure the built-in estimator is of one painting: a scalar in [0, 1] from how strongly
its cues agree (``DepthMap.extras['confidence']``; the review queue shows the least sure first).

- **horizon**: a designer's hint (1); a vanishing point, by the share of the oblique lines
  that meet in it; the sky's lower edge, by how level it runs (a level sea or plain line
  is sure, a ragged edge of crowns and roofs hides the horizon below it); no evidence (the
  default row) is a guess.
- **sky**: the share of the sky open to the top edge (sky that floats free is doubtful);
  a picture without sky is neither evidence for nor against (0.5).
- **land**: one minus the share of the picture taken by things standing at a contact with
  the ground (figures, trees, columns, walls): their order against each other and what
  they hide rests on the region merge finding each thing's foot, the estimator's least
  sure step. Sky, ground and far land placed by aerial perspective are the sure parts.

The scalar is the weighted geometric mean (0.4, 0.2, 0.4) of the three. On the 12
development paintings its Spearman rank correlation with the painting's WHDR is about -0.5
(BENCHMARKS.md): it sorts the queue somewhat, not reliably.
"""

from __future__ import annotations

import cv2
import numpy as np

WEIGHTS = {"horizon": 0.4, "sky": 0.2, "land": 0.4}
"""Exponents of the weighted geometric mean."""


def horizon_score(source: str, support: float, sky: np.ndarray) -> float:
    """Evidence for the horizon: ``source`` one of hint, perspective, sky, default."""
    if source == "hint":
        return 1.0
    if source == "perspective":
        return 0.5 + 0.5 * min(1.0, max(0.0, support))
    if source == "sky":
        h = sky.shape[0]
        cols = sky.any(axis=0)
        lowest = (h - np.argmax(sky[::-1], axis=0))[cols]
        spread = float(np.subtract(*np.percentile(lowest, [75, 25]))) / h if lowest.size else 1.0
        return 0.3 + 0.6 * float(np.exp(-spread / 0.05))
    return 0.15


def sky_score(sky: np.ndarray) -> float:
    """Share of the sky in parts that touch the top edge (0.5 without sky)."""
    if sky.mean() < 0.01:
        return 0.5
    n, lbl = cv2.connectedComponents(sky.astype(np.uint8), connectivity=4)
    top = np.unique(lbl[0][sky[0]])
    return float(np.isin(lbl[sky], top).mean())


def land_score(reg_conf: np.ndarray) -> float:
    """One minus the share of the picture standing at a contact (``reg_conf`` 0.8, see
    :func:`.layout.region_depth`): sky, ground and far land are the sure parts."""
    return 1.0 - float(((reg_conf > 0.7) & (reg_conf < 0.9)).mean())


def cue_confidence(source: str, support: float, sky: np.ndarray, reg_conf: np.ndarray
                   ) -> tuple[float, dict[str, float]]:
    """The scalar confidence and its three parts (each in [0, 1])."""
    parts = {"horizon": horizon_score(source, support, sky), "sky": sky_score(sky),
             "land": land_score(reg_conf)}
    value = float(np.prod([max(parts[k], 1e-3) ** w for k, w in WEIGHTS.items()]))
    return round(min(1.0, max(0.0, value)), 4), {k: round(v, 4) for k, v in parts.items()}
