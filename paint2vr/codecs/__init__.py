"""GPU-ready encodings glTF files carry: KTX2 / Basis Universal textures (:mod:`.ktx2`),
``EXT_meshopt_compression`` buffers (:mod:`.meshopt`) and texture GPU memory
(:mod:`.gpu_memory`). Core level: the glTF writer and the readers share them."""
