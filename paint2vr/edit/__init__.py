"""Designer edits: functions between stages (:mod:`.operations`), and the edits file the studio
writes (:mod:`.document`) applied to depth and scenes (:mod:`.apply`)."""

from .apply import apply_depth_edits, apply_scene_edits
from .document import (DEFAULT_EDITS, EDITS_VERSION, Edits, EditsError, Pin, Region, dumps_edits, edits_sha256,
                       edits_to_dict, loads_edits, parse_edits, read_edits)
from .operations import (drop_layer, load_mask, mark_foreground, mark_sky, merge_layers, move_layer, paint_depth,
                         replace_depth)

__all__ = ["DEFAULT_EDITS", "EDITS_VERSION", "Edits", "EditsError", "Pin", "Region", "apply_depth_edits",
           "apply_scene_edits", "drop_layer", "dumps_edits", "edits_sha256", "edits_to_dict", "load_mask",
           "loads_edits", "mark_foreground", "mark_sky", "merge_layers", "move_layer", "paint_depth",
           "parse_edits", "read_edits", "replace_depth"]
