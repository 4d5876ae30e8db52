"""The command line: a thin layer over the library's stages and options dataclasses."""
