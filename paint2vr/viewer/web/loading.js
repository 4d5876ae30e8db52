// paint2vr viewer: loading a scene, whatever its compression, with progress in bytes.
// KTX2 / Basis Universal textures (KHR_texture_basisu) go through three.js's KTX2Loader and
// its Basis transcoder, EXT_meshopt_compression geometry through the MeshoptDecoder; both are
// served from the local node_modules by paint2vr/viewer/server.py (no CDN).
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';

export const TRANSCODER_PATH = '/vendor/three/examples/jsm/libs/basis/';

export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '?';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// A GLTFLoader that reads every format paint2vr (and gltfpack, gltf-transform) writes.
// mobileFormats: transcode KTX2 as a standalone headset's GPU would (ETC1/ETC2 for ETC1S,
// ASTC for UASTC; no desktop BCn formats), for checking on a desktop what a Quest shows.
export function makeLoader(renderer, { mobileFormats = false } = {}) {
  const ktx2 = new KTX2Loader().setTranscoderPath(TRANSCODER_PATH).detectSupport(renderer);
  if (mobileFormats) {
    Object.assign(ktx2.workerConfig, { bptcSupported: false, dxtSupported: false });
  }
  return new GLTFLoader().setKTX2Loader(ktx2).setMeshoptDecoder(MeshoptDecoder);
}

// Load the scene; onProgress(loaded, total) is called as bytes arrive (total 0 when the
// server does not say). Resolves to the glTF.
export function loadScene(renderer, url, onProgress, options = {}) {
  const loader = makeLoader(renderer, options);
  return loader.loadAsync(url, (event) => onProgress(event.loaded, event.lengthComputable ? event.total : 0))
    .then(attachWalkMeshes)
    .then((gltf) => sharpenTextures(gltf, renderer));
}

// Most texels a texture is sampled with along its stretched axis (glTF has no sampler field
// for it). Without it the ground seen towards the horizon, stretched 10-50x along the view,
// takes the mip level of its longest side and shows as a flat band of its mean colour; 8 is
// what a Quest's GPU does at little cost (16 on desktops changes little more).
export const ANISOTROPY = 8;

// Every mipmapped texture of the scene sampled anisotropically, up to what the GPU offers.
export function sharpenTextures(gltf, renderer) {
  const most = Math.min(ANISOTROPY, renderer.capabilities.getMaxAnisotropy());
  gltf.scene.traverse((o) => {
    const map = o.material && o.material.map;
    if (map && map.anisotropy !== most) {
      map.anisotropy = most;
      map.needsUpdate = true;
    }
  });
  return gltf;
}

// Walk nodes (extras paint2vr_role "navmesh" or "collider") name their mesh in extras
// paint2vr_mesh instead of instancing it, so a client that knows nothing of walk data draws
// nothing; load each under its node, hidden, for locomotion's rays. Resolves to the glTF.
export async function attachWalkMeshes(gltf) {
  const found = [];
  gltf.scene.traverse((o) => {
    const u = o.userData || {};
    if (['navmesh', 'collider'].includes(u.paint2vr_role) && Number.isInteger(u.paint2vr_mesh)) found.push(o);
  });
  for (const node of found) {
    const mesh = await gltf.parser.getDependency('mesh', node.userData.paint2vr_mesh);
    mesh.visible = false;
    node.add(mesh);
  }
  return gltf;
}

// What three.js made of the scene's textures (a test hook): size, mip levels, whether it is a
// GPU-compressed texture and its format constant.
export function textureSummary(root) {
  const seen = new Map();
  root.traverse((obj) => {
    const map = obj.material && obj.material.map;
    if (!map || seen.has(map.uuid)) return;
    const image = map.image || {};
    seen.set(map.uuid, {
      compressed: Boolean(map.isCompressedTexture), format: map.format, width: image.width, height: image.height,
      mipmaps: (map.mipmaps || []).length, colorSpace: map.colorSpace, minFilter: map.minFilter,
      anisotropy: map.anisotropy,
    });
  });
  return [...seen.values()];
}
