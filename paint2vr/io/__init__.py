"""The I/O core every stage shares: atomic writes, the glTF/GLB reader, the PLY point-cloud file."""
