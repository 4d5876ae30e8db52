"""Layer edges in Blender's Eevee, diagnosis: flat-ID renders of one GLB under variants, in one
Blender process (counts: bench/eevee_check.py's ``decode_ids``; ID 0 = nothing drawn).

    /tmp/bpyenv/bin/python bench/eevee_variants.py SCENE.glb OUTDIR WIDTH HEIGHT VARIANTS

VARIANTS, comma-separated, applied in order (each keeps the earlier ones): ``t=0.51`` the
importer's alpha-clip threshold (its Math LESS_THAN node), ``i=Closest`` texture
interpolation, ``m=BLENDED`` the materials' render method, ``nolp=1`` the unlit Light Path
trick bypassed (emission straight into the alpha mix), ``solo=layer1+layer2`` only those
layers (sky and world stay), ``w=353x251`` the render size, ``e=CYCLES`` another engine, ``push=layer2:1.01`` those
objects scaled about the eye (same image, depths times k), ``pushk=0.001`` layer k's depths
times 1 + k * 0.001. Writes OUTDIR/ids_<variant>.png.
"""
import bpy, sys, os, json, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
glb, out, W, H = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
variants = sys.argv[5].split(",")
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=glb)
scene = bpy.context.scene
scene.render.engine = "BLENDER_EEVEE_NEXT"
scene.camera = [o for o in scene.objects if o.type == "CAMERA"][0]
scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = W, H, 100
scene.render.dither_intensity = 0.0; scene.render.filter_size = 0.01
scene.view_settings.view_transform = "Standard"
scene.eevee.taa_render_samples = 1
scene.world = bpy.data.worlds.new("black"); scene.world.color = (0, 0, 0)
for o in scene.objects:
    if o.name.startswith("paint2vr_navmesh"): o.hide_render = True
scene.render.image_settings.file_format = "PNG"; scene.render.image_settings.color_mode = "RGB"
mats = sorted({s.material.name for o in scene.objects if o.type == "MESH" and not o.hide_render for s in o.material_slots})
for k, name in enumerate(mats, start=1):
    mat = bpy.data.materials[name]
    s = k * 16 / 255.0; lin = s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    for node in mat.node_tree.nodes:
        if node.bl_idname == "ShaderNodeEmission":
            for l in list(node.inputs["Color"].links): mat.node_tree.links.remove(l)
            node.inputs["Color"].default_value = (lin, lin, lin, 1)
def set_threshold(t):
    for name in mats:
        for node in bpy.data.materials[name].node_tree.nodes:
            if node.bl_idname == "ShaderNodeMath" and node.operation == "LESS_THAN":
                node.inputs[1].default_value = t
def set_interp(mode):
    for name in mats:
        for node in bpy.data.materials[name].node_tree.nodes:
            if node.bl_idname == "ShaderNodeTexImage": node.interpolation = mode
for v in variants:
    kind, val = v.split("=")
    if kind == "w": scene.render.resolution_x, scene.render.resolution_y = [int(a) for a in val.split("x")]
    elif kind == "t": set_threshold(float(val))
    elif kind == "i": set_interp(val)
    elif kind == "m":
        for name in mats: bpy.data.materials[name].surface_render_method = val
    elif kind == "nolp":
        for name in mats:
            nt = bpy.data.materials[name].node_tree
            mix = nt.nodes.get("Mix Shader.001"); em = [n for n in nt.nodes if n.bl_idname == "ShaderNodeEmission"][0]
            if mix is not None:
                nt.links.new(em.outputs[0], mix.inputs[2])
    elif kind == "e":  # another engine on the same import (CYCLES: a path tracer, no depth buffer)
        scene.render.engine = val
        if val == "CYCLES":
            scene.cycles.samples, scene.cycles.use_denoising, scene.cycles.pixel_filter_type = 1, False, "BOX"
            scene.cycles.filter_width = 0.01
    elif kind == "push":  # scale objects about the eye: same image, depths times k (breaks ties)
        import mathutils
        names, k = val.split(":")
        c = scene.camera.matrix_world.translation.copy()
        M = mathutils.Matrix.Translation(c) @ mathutils.Matrix.Scale(float(k), 4) @ mathutils.Matrix.Translation(-c)
        for n in names.split("+"):
            o = bpy.data.objects[n]; o.matrix_world = M @ o.matrix_world
    elif kind == "pushk":  # layer k's depths times (1 + k eps) about the eye
        import mathutils
        c = scene.camera.matrix_world.translation.copy()
        for o in scene.objects:
            if o.type == "MESH" and o.name.startswith("layer"):
                k = 1 + int(o.name[5:]) * float(val)
                M = mathutils.Matrix.Translation(c) @ mathutils.Matrix.Scale(k, 4) @ mathutils.Matrix.Translation(-c)
                o.matrix_world = M @ o.matrix_world
    elif kind == "solo":
        for o in scene.objects:
            if o.type == "MESH" and o.name.startswith("layer"): o.hide_render = o.name not in val.split("+")
    t = time.time()
    scene.render.filepath = os.path.join(out, f"ids_{v.replace('=', '_')}.png")
    bpy.ops.render.render(write_still=True)
    print("RENDERED", v, round(time.time() - t, 1), flush=True)
json.dump({"mats": mats}, open(os.path.join(out, "mats.json"), "w"))
