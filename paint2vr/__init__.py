"""paint2vr: turn paintings into layered, animated 3D scenes for VR headsets."""
