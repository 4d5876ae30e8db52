"""Layer edges in Blender's Eevee, diagnosis: what the file puts under given render pixels.

Imports the GLB with Blender's importer and casts rays from its start camera through a 5 x 5
grid inside each pixel, walking through every surface (Blender's BVH ray cast), with the
bilinear texture alpha at each hit; prints the first surface whose alpha passes the cutoff.

    /tmp/bpyenv/bin/python bench/eevee_rays.py SCENE.glb PIXELS.json WIDTH HEIGHT

PIXELS.json: [[x, y], ...] render pixels (row 0 at the top), e.g. the ID render's empty ones.
"""
import json
import sys

import bpy
import mathutils
import numpy as np

glb, pix, W, H = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=glb)
scene = bpy.context.scene
scene.render.resolution_x, scene.render.resolution_y = W, H
cam = [o for o in scene.objects if o.type == "CAMERA"][0]
scene.camera = cam
for o in scene.objects:
    if o.name.startswith("paint2vr_navmesh"): o.hide_set(True); o.hide_viewport=True
m = bpy.data.materials["layer0"]
for n in m.node_tree.nodes:
    print("NODE", n.bl_idname, n.name, [(i.name, [l.from_node.name for l in i.links]) for i in n.inputs if i.links], getattr(n,'operation',None), getattr(n,'interpolation',None))
print("clip", cam.data.clip_start, cam.data.clip_end, cam.data.sensor_fit, cam.data.angle)
dg = bpy.context.evaluated_depsgraph_get()
fr = [cam.matrix_world @ v for v in cam.data.view_frame(scene=scene)]  # tr, br, bl, tl
org = cam.matrix_world.translation
tr, br, bl, tl = fr
imgs = {}
def alpha_at(obj, face, loc):
    me = obj.data
    poly = me.polygons[face]
    ml = obj.matrix_world.inverted() @ loc
    vs = [me.vertices[me.loops[li].vertex_index].co for li in poly.loop_indices]
    uvl = me.uv_layers.active.data
    uvs = [uvl[li].uv for li in poly.loop_indices]
    w = mathutils.interpolate.poly_3d_calc(vs, ml)
    u = sum(wi*uv[0] for wi,uv in zip(w,uvs)); v = sum(wi*uv[1] for wi,uv in zip(w,uvs))
    mat = obj.material_slots[0].material
    tex = [n for n in mat.node_tree.nodes if n.bl_idname=="ShaderNodeTexImage"]
    if not tex: return (u,v,None)
    im = tex[0].image
    if im.name not in imgs:
        imgs[im.name] = np.array(im.pixels[:], np.float32).reshape(im.size[1], im.size[0], im.channels)
    a = imgs[im.name]
    h, w = a.shape[:2]
    fx, fy = u*w-0.5, v*h-0.5
    x0, y0 = int(np.floor(fx)), int(np.floor(fy)); tx, ty = fx-x0, fy-y0
    g = lambda yy, xx: float(a[min(h-1,max(0,yy)), min(w-1,max(0,xx)), -1])
    al = (g(y0,x0)*(1-tx)+g(y0,x0+1)*tx)*(1-ty)+(g(y0+1,x0)*(1-tx)+g(y0+1,x0+1)*tx)*ty
    return round(al,3)
for x, y in pix[:int(sys.argv[5]) if len(sys.argv)>5 else 1000]:
  for ox in (0.0,0.25,0.5,0.75,1.0):
   for oy in (0.0,0.25,0.5,0.75,1.0):
    fx, fy = (x+ox)/W, (y+oy)/H
    top = tl.lerp(tr, fx); bot = bl.lerp(br, fx)
    p = top.lerp(bot, fy)
    d = (p - org).normalized()
    o = org.copy(); hits=[]
    for k in range(12):
        ok, loc, nrm, face, obj, _ = scene.ray_cast(dg, o, d)
        if not ok: hits.append("MISS"); break
        hits.append((obj.name, round((loc-org).length,3), alpha_at(obj, face, loc)))
        o = loc + d*1e-4
    first=[h for h in hits if h!='MISS' and h[2]>=0.5][:1]
    print("PIX", x, y, ox, oy, first, len(hits))
