"""The studio: a local web editor for a painting's depth, sky, layers and effects, and a
review queue for batch output (docs/studio.md)."""

from .queue import QueueItem, batch_items, edits_path_for, single_item
from .server import DEFAULT_STUDIO_OPTIONS, StudioOptions, StudioServer, studio_server
from .session import StudioSession

__all__ = ["DEFAULT_STUDIO_OPTIONS", "QueueItem", "StudioOptions", "StudioServer", "StudioSession", "batch_items",
           "edits_path_for", "single_item", "studio_server"]
