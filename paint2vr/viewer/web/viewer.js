// paint2vr viewer: one GLB scene, its animations, desktop look/move and WebXR (Enter VR).
// Served by paint2vr/viewer/server.py; three.js comes from the local node_modules (no CDN).
import * as THREE from 'three';
import { VRButton } from 'three/addons/webxr/VRButton.js';
import { Locomotion, addResetButton } from './locomotion.js';
import { formatBytes, loadScene, textureSummary } from './loading.js';
import { applyFit, fitFrame, frameOf, uiInsets } from './layout.js';

const DEFAULT_WALK_RADIUS = 0.75;  // metres around the start pose when the scene does not say
const MOVE_SPEED = 1.0;            // metres per second (Shift doubles it)
const LOOK_SPEED = 0.004;          // radians per pixel dragged
const MAX_PITCH = THREE.MathUtils.degToRad(85);

const params = new URLSearchParams(location.search);

// Test hooks (read by tests/viewer/browser_check.mjs); harmless for visitors.
const state = {
  loaded: false, error: null, frames: 0, xrFrames: 0, clips: [], walkRadius: DEFAULT_WALK_RADIUS,
  start: [0, 1.6, 0], provenance: {}, progress: { loaded: 0, total: 0, events: 0 },
  mixerTime: () => 0, nodePositions: () => ({}), cameraPosition: () => [0, 0, 0], presenting: () => false,
  label: () => ({ visible: false, lines: [] }), paintingRect: () => null, view: () => null,
};
window.__paint2vr = state;

function showError(message) {
  state.error = String(message);
  const el = document.getElementById('error');
  el.hidden = false;
  el.textContent = state.error;
  console.error('paint2vr viewer:', message);
}

function setText(id, text) {
  document.getElementById(id).textContent = text || '';
}

// The emulated headset for tests and development (?emulate=1): installed before VRButton asks
// navigator.xr whether immersive-vr is supported.
async function installEmulator(config) {
  if (params.get('emulate') !== '1') return;
  if (!config.emulator) throw new Error('?emulate=1 needs the iwer package (npm ci)');
  const { XRDevice, metaQuest3 } = await import('/vendor/iwer/build/iwer.module.js');
  const device = new XRDevice(metaQuest3);
  device.installRuntime({ forceInstall: true });
  state.xrDevice = device;
}

function provenanceOf(gltf, config) {
  const asset = gltf.asset || {};
  const record = (asset.extras && asset.extras.paint2vr) || {};
  const source = record.source || {};
  const lift = record.lift || {};
  const viewer = record.viewer || {};
  const radius = [viewer.walkable_radius, record.walkable_radius, lift.walk_radius, lift.walkable_radius]
    .find((r) => typeof r === 'number' && r > 0);
  return {
    title: source.title || config.name || 'Untitled',
    artist: source.artist || '',
    license: source.license || '',
    copyright: asset.copyright || '',
    walkRadius: radius || DEFAULT_WALK_RADIUS,
  };
}

// The provenance as a museum label in the scene: the HTML overlay is not drawn inside a
// headset, so in VR the visitor finds title, artist and licence on a small card at waist
// height in front of the start pose (tilted up to face the eye), as beside a painting.
const LABEL_SIZE = [0.36, 0.15];    // metres
const LABEL_PLACE = [0.5, 1.05];    // metres in front of the start pose, height above the floor

function labelLines(prov) {
  return [prov.title, prov.artist, prov.license && `Licence: ${prov.license}`,
    prov.copyright && `\u00a9 ${prov.copyright}`].filter(Boolean);
}

function makeLabel(prov, startPos, startYaw) {
  const canvas = document.createElement('canvas');
  canvas.width = 1024;
  canvas.height = Math.round(1024 * LABEL_SIZE[1] / LABEL_SIZE[0]);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgba(245, 240, 228, 0.96)';  // museum card
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#1d1d1d';
  const lines = labelLines(prov);
  let y = 78;
  lines.forEach((text, i) => {
    ctx.font = i === 0 ? 'bold 60px serif' : '40px sans-serif';
    ctx.fillText(text, 48, y, canvas.width - 96);
    y += i === 0 ? 76 : 56;
  });
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const label = new THREE.Mesh(new THREE.PlaneGeometry(...LABEL_SIZE),
    new THREE.MeshBasicMaterial({ map: texture, transparent: true, depthTest: false }));
  label.name = 'provenance_label';
  label.renderOrder = 10;  // over the scene: nothing may hide the licence
  const forward = new THREE.Vector3(0, 0, -LABEL_PLACE[0]).applyAxisAngle(THREE.Object3D.DEFAULT_UP, startYaw);
  label.position.set(startPos.x + forward.x, LABEL_PLACE[1], startPos.z + forward.z);
  label.rotation.set(-0.7, startYaw, 0, 'YXZ');
  label.visible = false;  // shown while presenting in a headset
  label.userData.lines = lines;
  return label;
}

// The card's Hide/Show details toggle (also the I key).
function setupCard(onChange) {
  const card = document.getElementById('overlay');
  const toggle = document.getElementById('card-toggle');
  const set = (expanded) => {
    card.classList.toggle('collapsed', !expanded);
    toggle.setAttribute('aria-expanded', String(expanded));
    toggle.textContent = expanded ? 'Hide details' : 'Show details';
    toggle.title = expanded ? 'Hide the details (I)' : 'Show title, artist and licence (I)';
    onChange();
  };
  toggle.addEventListener('click', (e) => { e.stopPropagation(); set(card.classList.contains('collapsed')); toggle.blur(); });
  return () => set(card.classList.contains('collapsed'));
}

// The Fullscreen button (also the F key); hidden where the browser has no fullscreen (iPhone).
function setupFullscreen() {
  const button = document.getElementById('fullscreen-button');
  const root = document.documentElement;
  const toggle = () => {
    if (document.fullscreenElement) return document.exitFullscreen();
    return root.requestFullscreen ? root.requestFullscreen() : Promise.resolve();
  };
  const show = () => {
    const on = Boolean(document.fullscreenElement);
    button.innerHTML = on ? 'Exit fullscreen <kbd>F</kbd>' : 'Fullscreen <kbd>F</kbd>';
    button.setAttribute('aria-pressed', String(on));
  };
  button.hidden = !document.fullscreenEnabled;
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    toggle().catch((err) => console.warn('paint2vr viewer: fullscreen refused:', err && err.message));
    button.blur();
  });
  addEventListener('fullscreenchange', show);
  show();
  return () => toggle().catch((err) => console.warn('paint2vr viewer: fullscreen refused:', err && err.message));
}

function animatedNodeNames(clips) {
  const names = new Set();
  for (const clip of clips) {
    for (const track of clip.tracks) names.add(track.name.slice(0, track.name.lastIndexOf('.')));
  }
  return [...names];
}

async function main() {
  const config = await (await fetch('/config.json')).json();
  await installEmulator(config);

  const renderer = new THREE.WebGLRenderer({ antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setSize(window.innerWidth, window.innerHeight);
  renderer.xr.enabled = true;
  renderer.xr.setReferenceSpaceType('local-floor');
  document.body.prepend(renderer.domElement);
  const vrButton = VRButton.createButton(renderer);
  vrButton.id = 'VRButton';  // also the link three.js shows where WebXR is missing
  document.getElementById('toolbar').appendChild(vrButton);
  if (params.get('ui') === '0') document.body.classList.add('no-ui');  // bare view (benchmarks)

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x202020);
  const camera = new THREE.PerspectiveCamera(50, window.innerWidth / window.innerHeight, 0.05, 2000);
  camera.rotation.order = 'YXZ';
  // The rig stands on the ground under the start pose; in VR the headset moves inside it.
  const rig = new THREE.Group();
  rig.add(camera);
  scene.add(rig);

  const gltf = await loadScene(renderer, config.scene, (loaded, total) => {
    state.progress = { loaded, total, events: state.progress.events + 1 };
    setText('title', total ? `Loading… ${formatBytes(loaded)} of ${formatBytes(total)}` : `Loading… ${formatBytes(loaded)}`);
  }, { mobileFormats: params.get('gpu') === 'mobile' });
  scene.add(gltf.scene);
  scene.updateMatrixWorld(true);
  state.textures = () => textureSummary(gltf.scene);

  const prov = provenanceOf(gltf, config);
  state.provenance = prov;
  state.walkRadius = prov.walkRadius;
  document.title = `${prov.title} · paint2vr`;
  setText('title', prov.title);
  setText('artist', prov.artist);
  setText('license', prov.license && `Licence: ${prov.license}`);
  setText('copyright', prov.copyright && `© ${prov.copyright}`);

  // Start pose: the glTF camera node 'start_camera' (the painter's eye).
  const startPos = new THREE.Vector3(0, 1.6, 0);
  let startYaw = 0;
  let startPitch = 0;
  const startNode = gltf.scene.getObjectByName('start_camera') || (gltf.cameras && gltf.cameras[0]);
  if (startNode) {
    startNode.getWorldPosition(startPos);
    const euler = new THREE.Euler().setFromQuaternion(startNode.getWorldQuaternion(new THREE.Quaternion()), 'YXZ');
    startYaw = euler.y;
    startPitch = euler.x;
    if (startNode.isPerspectiveCamera) {
      camera.fov = startNode.fov;
      camera.near = startNode.near;
      camera.far = startNode.far;
    }
  }
  // The painting's frame between the card and the toolbar (layout.js), refitted when either
  // changes size (loading text, the card's toggle, a resize, fullscreen).
  const frame = frameOf(startNode && startNode.isPerspectiveCamera ? startNode : null, window.innerWidth / window.innerHeight);
  let fit = null;
  function refit() {
    if (renderer.xr.isPresenting) return;
    const insets = uiInsets(document.getElementById('overlay'), document.getElementById('toolbar'), window.innerHeight);
    fit = fitFrame(frame, window.innerWidth, window.innerHeight, insets);
    applyFit(camera, fit, window.innerWidth, window.innerHeight);
  }
  refit();
  if (window.ResizeObserver) {
    const watch = new ResizeObserver(() => refit());
    watch.observe(document.getElementById('overlay'));
    watch.observe(document.getElementById('toolbar'));
  }
  state.paintingRect = () => fit && { ...fit.rect };
  state.view = () => ({ fov: camera.fov, yaw, pitch, direction: camera.getWorldDirection(new THREE.Vector3()).toArray() });
  state.start = startPos.toArray();
  // Walking: zone, ground, colliders, sticks and teleport live in locomotion.js.
  const record = (gltf.asset && gltf.asset.extras && gltf.asset.extras.paint2vr) || {};
  const loco = new Locomotion({ renderer, scene, rig, camera, root: gltf.scene, record,
    fallbackRadius: prov.walkRadius, startPos, startYaw });
  state.walkRadius = loco.zone.radius;
  state.locomotion = () => loco.report();
  let yaw = 0;
  let pitch = startPitch;
  function resetPose() {
    loco.reset();
    yaw = 0;
    pitch = renderer.xr.isPresenting ? 0 : startPitch;
    if (!renderer.xr.isPresenting) {
      camera.position.set(0, loco.eyeHeight, 0);
      camera.rotation.set(pitch, yaw, 0);
    }
  }
  resetPose();
  addResetButton(resetPose);
  const toggleCard = setupCard(refit);
  const toggleFullscreen = setupFullscreen();
  const label = makeLabel(prov, startPos, startYaw);
  scene.add(label);
  state.label = () => ({ visible: label.visible, lines: label.userData.lines });

  const mixer = new THREE.AnimationMixer(gltf.scene);
  for (const clip of gltf.animations) mixer.clipAction(clip).play();
  state.clips = gltf.animations.map((c) => c.name);
  const animated = animatedNodeNames(gltf.animations).map((n) => gltf.scene.getObjectByName(n)).filter(Boolean);
  const tmp = new THREE.Vector3();
  state.mixerTime = () => mixer.time;
  state.nodePositions = () => Object.fromEntries(animated.map((o) => [o.name, o.getWorldPosition(tmp).toArray()]));
  state.cameraPosition = () => camera.getWorldPosition(tmp).toArray();
  state.presenting = () => renderer.xr.isPresenting;

  // Desktop navigation: drag to look, WASD / arrows to move, R to reset.
  const keys = new Set();
  addEventListener('keydown', (e) => {
    keys.add(e.code);
    if (e.code === 'KeyR') resetPose();
    if (e.code === 'KeyF' && !e.repeat) toggleFullscreen();
    if (e.code === 'KeyI' && !e.repeat) toggleCard();
  });
  addEventListener('keyup', (e) => keys.delete(e.code));
  addEventListener('blur', () => keys.clear());
  const canvas = renderer.domElement;
  let dragging = false;
  canvas.addEventListener('pointerdown', (e) => { dragging = true; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener('pointerup', (e) => { dragging = false; canvas.releasePointerCapture(e.pointerId); });
  canvas.addEventListener('pointermove', (e) => {
    if (!dragging || renderer.xr.isPresenting) return;
    yaw -= e.movementX * LOOK_SPEED;
    pitch = THREE.MathUtils.clamp(pitch - e.movementY * LOOK_SPEED, -MAX_PITCH, MAX_PITCH);
  });
  // Double-click on the ground: teleport there (when it is inside the walkable zone).
  canvas.addEventListener('dblclick', (e) => {
    if (renderer.xr.isPresenting) return;
    const r = canvas.getBoundingClientRect();
    loco.teleport(loco.aimAtScreen(((e.clientX - r.left) / r.width) * 2 - 1, 1 - ((e.clientY - r.top) / r.height) * 2));
  });
  renderer.xr.addEventListener('sessionstart', () => { state.xrFrames = 0; label.visible = true; resetPose(); });
  renderer.xr.addEventListener('sessionend', () => { label.visible = false; resetPose(); refit(); });

  addEventListener('resize', () => {
    renderer.setSize(window.innerWidth, window.innerHeight);
    refit();
  });

  const move = new THREE.Vector3();
  function step(dt) {
    const forward = (keys.has('KeyW') || keys.has('ArrowUp') ? 1 : 0) - (keys.has('KeyS') || keys.has('ArrowDown') ? 1 : 0);
    const right = (keys.has('KeyD') || keys.has('ArrowRight') ? 1 : 0) - (keys.has('KeyA') || keys.has('ArrowLeft') ? 1 : 0);
    if (!renderer.xr.isPresenting) camera.rotation.set(pitch, yaw, 0);
    move.set(0, 0, 0);
    if (forward || right) {
      const heading = rig.rotation.y + (renderer.xr.isPresenting ? 0 : yaw);
      const speed = MOVE_SPEED * (keys.has('ShiftLeft') || keys.has('ShiftRight') ? 2 : 1) * dt;
      move.set(right, 0, -forward).normalize().multiplyScalar(speed).applyAxisAngle(THREE.Object3D.DEFAULT_UP, heading);
    }
    // Sticks, teleport and the visitor's own steps; kept in the zone, on the ground, out of objects.
    loco.update(dt, move);
  }

  let last = null;
  renderer.setAnimationLoop((time) => {
    const dt = last === null ? 0 : Math.min((time - last) / 1000, 0.1);
    last = time;
    mixer.update(dt);
    step(dt);
    renderer.render(scene, camera);
    state.frames += 1;
    if (renderer.xr.isPresenting) state.xrFrames += 1;
  });
  state.loaded = true;
}

addEventListener('error', (e) => showError(e.message || e));
addEventListener('unhandledrejection', (e) => showError((e.reason && e.reason.message) || e.reason));
main().catch((err) => showError(err && err.message ? err.message : err));
