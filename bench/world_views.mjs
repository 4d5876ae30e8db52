// Render a GLB with three.js in headless Chromium, as the viewer would, from a list of views.
// Usage: node bench/world_views.mjs SCENE.glb VIEWS.json OUT_DIR
// VIEWS.json: {"width": W, "height": H, "views": [{"name", "offset": [right, up, back] metres
// from the start pose in its own frame, "yaw": degrees left of the start heading, "pitch":
// degrees up, "yfov": vertical field of view in degrees, or null for the start camera's}]}.
// Writes OUT_DIR/NAME.rgba (H rows of W RGBA bytes, top row first) per view and prints one
// JSON line {start, startYaw, yfov, views}. The canvas is cleared to magenta with alpha 0:
// a pixel with alpha 0 is one nothing was drawn on. Nodes whose extras say paint2vr_role
// navmesh or collider are hidden (viewers do not draw them); animations stay at rest.
// three.js comes from node_modules and the loading from the viewer's own loading.js (the same
// loaders and texture sampling as the viewer); files are served to the page by request interception.
import { launchChromium } from '../scripts/chromium.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [glbPath, viewsPath, outDir] = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const spec = JSON.parse(fs.readFileSync(viewsPath, 'utf8'));
const ORIGIN = 'http://paint2vr.check';

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports": {"three": "/three/build/three.module.js",
"three/addons/": "/three/examples/jsm/"}}</script></head><body style="margin:0">
<script type="module">
import * as THREE from 'three';
import { loadScene } from '/viewer/loading.js';
window.setup = async (width, height) => {
  const renderer = new THREE.WebGLRenderer({ antialias: false, alpha: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(1);
  renderer.setSize(width, height);
  renderer.setClearColor(0xff00ff, 0);
  document.body.appendChild(renderer.domElement);
  // The viewer's own loading (paint2vr/viewer/web/loading.js): KTX2 / Basis textures,
  // meshopt-compressed buffers, the walk meshes hidden, textures sampled anisotropically.
  const gltf = await loadScene(renderer, '/scene.glb', () => {});
  const scene = new THREE.Scene();
  scene.add(gltf.scene);
  gltf.scene.traverse((o) => {
    const role = o.userData && o.userData.paint2vr_role;
    if (role === 'navmesh' || role === 'collider') o.visible = false;
  });
  scene.updateMatrixWorld(true);
  const start = new THREE.Vector3(0, 1.6, 0);
  let startYaw = 0, yfov = 50, near = 0.05, far = 2000;
  const node = gltf.scene.getObjectByName('start_camera') || (gltf.cameras && gltf.cameras[0]);
  if (node) {
    node.getWorldPosition(start);
    startYaw = new THREE.Euler().setFromQuaternion(node.getWorldQuaternion(new THREE.Quaternion()), 'YXZ').y;
    if (node.isPerspectiveCamera) { yfov = node.fov; near = node.near; far = Math.max(node.far, 2000); }
  }
  const camera = new THREE.PerspectiveCamera(yfov, width / height, near, far);
  camera.rotation.order = 'YXZ';
  const gl = renderer.getContext();
  window.shoot = (view) => {
    const o = new THREE.Vector3(...view.offset).applyAxisAngle(THREE.Object3D.DEFAULT_UP, startYaw);
    camera.position.copy(start).add(o);
    camera.rotation.set(THREE.MathUtils.degToRad(view.pitch), startYaw + THREE.MathUtils.degToRad(view.yaw), 0);
    camera.fov = view.yfov == null ? yfov : view.yfov;
    camera.updateProjectionMatrix();
    renderer.render(scene, camera);
    const px = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const row = width * 4, flipped = new Uint8Array(px.length);
    for (let y = 0; y < height; y++) flipped.set(px.subarray((height - 1 - y) * row, (height - y) * row), y * row);
    let s = '';
    for (let i = 0; i < flipped.length; i += 0x8000) s += String.fromCharCode.apply(null, flipped.subarray(i, i + 0x8000));
    return btoa(s);
  };
  return { start: start.toArray(), startYaw, yfov };
};
window.ready = true;
</script></body></html>`;

const TYPES = { '.js': 'text/javascript', '.glb': 'model/gltf-binary', '.html': 'text/html', '.wasm': 'application/wasm' };

const browser = await launchChromium({ timeout: 60000 });
try {
  const page = await browser.newPage({ viewport: { width: spec.width, height: spec.height } });
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    let file = null;
    if (url.pathname === '/') return route.fulfill({ body: PAGE, contentType: 'text/html' });
    if (url.pathname === '/scene.glb') file = path.resolve(glbPath);
    else if (url.pathname.startsWith('/three/') || url.pathname.startsWith('/vendor/three/')) {
      const rel = url.pathname.slice(url.pathname.indexOf('/three/') + '/three/'.length);
      file = path.join(root, 'node_modules', 'three', path.normalize(rel));
    } else if (url.pathname.startsWith('/viewer/')) {
      file = path.join(root, 'paint2vr', 'viewer', 'web', path.normalize(url.pathname.slice('/viewer/'.length)));
    }
    if (!file || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ body: fs.readFileSync(file), contentType: TYPES[path.extname(file)] || 'application/octet-stream' });
  });
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
  const info = await page.evaluate(([w, h]) => window.setup(w, h), [spec.width, spec.height]);
  if (errors.length) throw new Error(errors.join('\n'));
  fs.mkdirSync(outDir, { recursive: true });
  for (const view of spec.views) {
    const b64 = await page.evaluate((v) => window.shoot(v), view);
    fs.writeFileSync(path.join(outDir, `${view.name}.rgba`), Buffer.from(b64, 'base64'));
  }
  console.log(JSON.stringify({ ...info, views: spec.views.map((v) => v.name) }));
} finally {
  await browser.close();
}
