// paint2vr studio: edit a painting's horizon, sky, regions, pins, layers and effects; see the
// depth and the lifted scene follow; save the edits file (docs/studio.md).
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const $ = (id) => document.getElementById(id);
const token = document.querySelector('meta[name="paint2vr-token"]').content;
const item = new URLSearchParams(location.search).get('item');
const q = (path, extra = '') => `${path}?${item ? `item=${encodeURIComponent(item)}&` : ''}${extra}`;
const LISTS = ['sky', 'not_sky', 'ground', 'regions', 'pins'];
const COLOURS = { sky: '#4aa3ff', not_sky: '#ff9f1a', ground: '#3ddc84', regions: '#ff3fd0', pins: '#ffffff' };

let state = null;          // /api/state
let edits = null;          // the document being edited
let undo = [], redo = [];
let overlay = 'depth', revision = '', busy = null, pending = false;

// -- the edits document ------------------------------------------------------------------
function clean(doc) {
  const out = { paint2vr_edits: 1 };
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'paint2vr_edits' || v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}
function commit(change) {
  undo.push(JSON.stringify(edits));
  redo = [];
  change(edits);
  edits = clean(edits);
  refresh();
}
function step(from, to) {
  if (!from.length) return;
  to.push(JSON.stringify(edits));
  edits = JSON.parse(from.pop());
  refresh();
}

// -- talking to the server ---------------------------------------------------------------
async function send(method, path, doc) {
  const res = await fetch(q(path), {
    method, body: JSON.stringify(doc),
    headers: { 'Content-Type': 'application/json', 'X-Paint2vr-Token': token },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}
async function preview() {
  if (busy) { pending = true; return; }
  const t0 = performance.now();
  busy = send('POST', '/api/preview', edits);
  try {
    const r = await busy;
    revision = r.revision;
    setOverlay();
    $('status').textContent = `depth updated in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
    document.body.dataset.revision = revision;
    if ($('live').checked) await loadScene();
  } catch (e) {
    $('status').textContent = `error: ${e.message}`;
  } finally {
    busy = null;
    if (pending) { pending = false; preview(); }
  }
}
async function save() {
  try {
    const r = await send('PUT', '/api/edits', edits);
    $('status').textContent = `saved (${r.sha256.slice(0, 8)})${r.needs_rerun ? ' · marked for re-run' : ''}`;
    document.body.dataset.saved = r.sha256;
  } catch (e) {
    $('status').textContent = `not saved: ${e.message}`;
  }
}
function setOverlay() {
  const img = $('overlay');
  img.hidden = overlay === 'none';
  if (overlay !== 'none') img.src = q(`/api/${overlay}.png`, `rev=${revision}`);
}

// -- drawing on the painting -------------------------------------------------------------
const canvas = $('draw');
const ctx = canvas.getContext('2d');
let stroke = null;

function frac(e) {
  const r = canvas.getBoundingClientRect();
  return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
}
function tool() { return document.querySelector('input[name=tool]:checked').value; }
function depthValue() { return Math.max(0.1, Number($('depth').value) || 3); }
function simplify(pts, max = 200) {
  if (pts.length <= max) return pts;
  const every = Math.ceil(pts.length / max);
  return pts.filter((_, i) => i % every === 0);
}
canvas.addEventListener('pointerdown', (e) => {
  canvas.setPointerCapture(e.pointerId);
  const p = frac(e), t = tool();
  if (t === 'horizon') stroke = { t, y: p[1] };
  else if (t === 'vp') commit((d) => { d.vanishing_point = p; });
  else if (t === 'pin') commit((d) => { (d.pins ||= []).push({ x: p[0], y: p[1], depth: depthValue() }); });
  else stroke = { t, pts: [p] };
  draw();
});
canvas.addEventListener('pointermove', (e) => {
  if (!stroke) return;
  const p = frac(e);
  if (stroke.t === 'horizon') stroke.y = p[1];
  else {
    const last = stroke.pts[stroke.pts.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) > 0.002) stroke.pts.push(p);
  }
  draw();
});
canvas.addEventListener('pointerup', () => {
  const s = stroke;
  stroke = null;
  if (!s) return;
  if (s.t === 'horizon') { commit((d) => { d.horizon = s.y; }); return; }
  if (s.pts.length < 3) { draw(); return; }
  const poly = simplify(s.pts);
  commit((d) => {
    if (s.t === 'region') (d.regions ||= []).push({ polygon: poly, depth: depthValue() });
    else (d[s.t] ||= []).push(poly);
  });
});

function path(poly) {
  ctx.beginPath();
  poly.forEach(([x, y], i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x * canvas.width, y * canvas.height));
  ctx.closePath();
}
function draw() {
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.lineWidth = Math.max(2, w / 500);
  const hz = stroke && stroke.t === 'horizon' ? stroke.y : (edits.horizon ?? state.horizon_estimate);
  ctx.setLineDash([12, 8]);
  ctx.strokeStyle = edits.horizon !== undefined || stroke ? '#ffe14d' : '#ffe14d88';
  ctx.beginPath(); ctx.moveTo(0, hz * h); ctx.lineTo(w, hz * h); ctx.stroke();
  ctx.setLineDash([]);
  for (const key of ['sky', 'not_sky', 'ground']) {
    for (const poly of edits[key] || []) {
      path(poly); ctx.fillStyle = COLOURS[key] + '40'; ctx.fill(); ctx.strokeStyle = COLOURS[key]; ctx.stroke();
    }
  }
  ctx.font = `${Math.max(14, w / 60)}px system-ui`;
  for (const r of edits.regions || []) {
    path(r.polygon); ctx.strokeStyle = COLOURS.regions; ctx.stroke();
    ctx.fillStyle = COLOURS.regions;
    ctx.fillText(r.depth !== undefined ? `${r.depth.toFixed(1)} m` : `x${r.scale.toFixed(2)}`, r.polygon[0][0] * w, r.polygon[0][1] * h);
  }
  for (const p of edits.pins || []) {
    ctx.beginPath(); ctx.arc(p.x * w, p.y * h, ctx.lineWidth * 3, 0, 2 * Math.PI);
    ctx.fillStyle = '#000a'; ctx.fill(); ctx.strokeStyle = COLOURS.pins; ctx.stroke();
    ctx.fillStyle = COLOURS.pins; ctx.fillText(`${p.depth.toFixed(1)} m`, p.x * w + 8, p.y * h - 8);
  }
  if (edits.vanishing_point) {
    const [x, y] = edits.vanishing_point, r = ctx.lineWidth * 6;
    ctx.strokeStyle = '#ff5555';
    ctx.beginPath(); ctx.moveTo(x * w - r, y * h); ctx.lineTo(x * w + r, y * h); ctx.moveTo(x * w, y * h - r); ctx.lineTo(x * w, y * h + r); ctx.stroke();
  }
  if (stroke && stroke.pts) {
    path(stroke.pts); ctx.strokeStyle = COLOURS[stroke.t === 'region' ? 'regions' : stroke.t]; ctx.stroke();
  }
}

// -- layers and effects ------------------------------------------------------------------
function layerList(names) {
  const box = $('layers');
  box.replaceChildren();
  const layers = edits.layers || { drop: [], merge: [] };
  for (const name of names) {
    const label = document.createElement('label');
    const drop = document.createElement('input');
    drop.type = 'checkbox'; drop.checked = (layers.drop || []).includes(name); drop.dataset.layer = name;
    drop.addEventListener('change', () => commit((d) => {
      const l = d.layers ||= { drop: [], merge: [] };
      l.drop = drop.checked ? [...new Set([...(l.drop || []), name])] : (l.drop || []).filter((n) => n !== name);
    }));
    const pick = document.createElement('input');
    pick.type = 'checkbox'; pick.dataset.merge = name; pick.title = 'select for merging';
    label.append(drop, ' drop ', pick, ` merge · ${name}`);
    box.append(label);
  }
  const merged = (layers.merge || []).map((g) => g.join(' + ')).join(', ');
  const button = document.createElement('button');
  button.id = 'merge'; button.textContent = 'Merge selected';
  button.addEventListener('click', () => {
    const group = [...box.querySelectorAll('input[data-merge]:checked')].map((i) => i.dataset.merge);
    if (group.length < 2) { $('status').textContent = 'select two or more layers to merge'; return; }
    commit((d) => { const l = d.layers ||= { drop: [], merge: [] }; l.merge = [...(l.merge || []), group]; });
  });
  box.append(button);
  if (merged) box.append(` merged: ${merged}`);
}
function effectList(effects) {
  const box = $('effects');
  box.replaceChildren();
  for (const fx of effects) {
    const label = document.createElement('label');
    const on = document.createElement('input');
    on.type = 'checkbox'; on.dataset.effect = fx.name;
    on.checked = edits.effects ? fx.name in edits.effects : state.default_effects.includes(fx.name);
    label.append(on, ` ${fx.name} `);
    let value = null;
    if (fx.option) {
      value = document.createElement('input');
      value.type = 'number'; value.step = 'any'; value.dataset.effectOption = fx.name;
      value.value = edits.effects?.[fx.name]?.[fx.option] ?? fx.default;
      label.append(`${fx.option} `, value);
    }
    const update = () => commit((d) => {
      const chosen = {};
      for (const box2 of $('effects').querySelectorAll('input[data-effect]')) {
        if (!box2.checked) continue;
        const f = effects.find((e) => e.name === box2.dataset.effect);
        const v = $('effects').querySelector(`input[data-effect-option="${f.name}"]`);
        chosen[f.name] = f.option && v ? { [f.option]: Number(v.value) } : {};
      }
      d.effects = chosen;
    });
    on.addEventListener('change', update);
    if (value) value.addEventListener('change', update);
    box.append(label);
  }
}

// -- the 3D view -------------------------------------------------------------------------
const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
renderer.outputColorSpace = THREE.SRGBColorSpace;
$('view3d').append(renderer.domElement);
const camera = new THREE.PerspectiveCamera(60, 4 / 3, 0.05, 5000);
const controls = new OrbitControls(camera, renderer.domElement);
const loader = new GLTFLoader();
let world = null, eye = null;

function resize() {
  const w = $('view3d').clientWidth, h = $('view3d').clientHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / h; camera.updateProjectionMatrix();
}
function toEye() {
  if (!eye) return;
  camera.position.copy(eye.position); camera.quaternion.copy(eye.quaternion);
  const ahead = new THREE.Vector3(0, 0, -5).applyQuaternion(eye.quaternion);
  controls.target.copy(eye.position).add(ahead);
  controls.update();
  render();
}
async function loadScene() {
  const t0 = performance.now();
  const gltf = await loader.loadAsync(q('/api/scene.glb', `rev=${revision}`));
  if (world) world.removeFromParent();
  world = gltf.scene;
  // The walkable zone's navmesh and collider are walk data, not scenery (the viewer hides them too).
  let hidden = 0;
  world.traverse((o) => {
    if (['navmesh', 'collider'].includes(o.userData && o.userData.paint2vr_role)) { o.visible = false; hidden += 1; }
  });
  document.body.dataset.walkNodesHidden = String(hidden);
  scene3d.add(world);
  world.updateMatrixWorld(true);
  const cam = gltf.cameras[0];
  if (cam) {
    eye = { position: new THREE.Vector3(), quaternion: new THREE.Quaternion() };
    cam.getWorldPosition(eye.position); cam.getWorldQuaternion(eye.quaternion);
    if (!document.body.dataset.sceneRevision) toEye();
  }
  resize();
  render();
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);  // the 3D view: lift, export, load
  document.body.dataset.sceneSeconds = seconds;
  $('status').textContent = `${$('status').textContent.split(' · 3D view')[0]} · 3D view in ${seconds} s`;
  document.body.dataset.sceneRevision = revision;
  const layers = await (await fetch(q('/api/state'))).json();
  layerList(layers.layers);
}
const scene3d = new THREE.Scene();
// Drawn on demand (orbit, a new scene, a resize), not every frame: the page stays responsive
// on software GL and laptops stay cool.
const render = () => renderer.render(scene3d, camera);
controls.addEventListener('change', render);
addEventListener('resize', () => { resize(); render(); });

// -- start ----------------------------------------------------------------------------------
function refresh() { draw(); preview(); }
function sizeCanvas() {
  canvas.width = state.width; canvas.height = state.height;
  draw();
}
async function start() {
  state = await (await fetch(q('/api/state'))).json();
  edits = clean(state.edits);
  $('name').textContent = state.name;
  $('back').hidden = !state.queue;
  $('painting').src = q('/api/painting.png');
  sizeCanvas();
  effectList(state.effects);
  for (const r of document.querySelectorAll('input[name=overlay]')) r.addEventListener('change', () => { overlay = r.value; setOverlay(); });
  $('opacity').addEventListener('input', () => { $('overlay').style.opacity = $('opacity').value; });
  $('undo').addEventListener('click', () => step(undo, redo));
  $('redo').addEventListener('click', () => step(redo, undo));
  $('save').addEventListener('click', save);
  $('eye').addEventListener('click', toEye);
  $('live').addEventListener('change', () => { if ($('live').checked) loadScene(); });
  const push = (f) => () => commit((d) => {
    const r = (d.regions || [])[d.regions.length - 1];
    if (!r) return;
    if (r.depth !== undefined) r.depth = Math.max(0.1, r.depth * f); else r.scale *= f;
  });
  $('nearer').addEventListener('click', push(0.8));
  $('farther').addEventListener('click', push(1.25));
  addEventListener('keydown', (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== 'z') return;
    e.preventDefault();
    if (e.shiftKey) step(redo, undo); else step(undo, redo);
  });
  await preview();
  document.body.dataset.ready = '1';
}
window.__studio = { edits: () => edits };
start().catch((e) => { $('status').textContent = `error: ${e.message}`; });
