// Locomotion inside the walkable zone: desktop keys/mouse, VR thumbsticks, snap turn and
// teleport, the eye following the ground, colliders and the zone's edge.
//
// The scene says where a visitor may walk (docs/viewer.md, "Walking"): a hidden node
// "paint2vr_navmesh" (extras paint2vr_role "navmesh", the walkable ground in world
// coordinates), optionally "paint2vr_collider" (role "collider", vertical obstacle surfaces),
// and the provenance's walk_zone {navmesh, radius_m, start}. A file without them keeps the
// older rule: flat ground at y = 0 and a circle of the walkable radius round the start.
import * as THREE from 'three';

export const NAVMESH_NAME = 'paint2vr_navmesh';
export const COLLIDER_NAME = 'paint2vr_collider';
export const SNAP_STEP = THREE.MathUtils.degToRad(30);  // radians per snap turn
const STICK_SPEED = 1.5;       // metres per second at full thumbstick
const DEADZONE = 0.2;          // thumbstick values below this are drift
const SNAP_ON = 0.7;           // a snap turn fires when the stick passes this ...
const SNAP_REARM = 0.3;        // ... and re-arms once it is back under this
const BODY_RADIUS = 0.25;      // metres kept between the eye's vertical and a collider
const PROBE_HEIGHTS = [0.3, 1.0];  // heights above the ground at which colliders are probed
const MAX_STEP = 0.35;         // metres of ground height change accepted in one move
const EDGE_ITERATIONS = 8;     // bisection steps that find where a move leaves the ground
const ARC_SPEED = 7.0;         // metres per second of the teleport arc's throw
const ARC_STEPS = 48;          // segments of the teleport arc
const ARC_DT = 0.04;           // seconds per arc segment
const GRAVITY = 9.8;
const UP = new THREE.Vector3(0, 1, 0);
const DOWN = new THREE.Vector3(0, -1, 0);

// The node with this role (extras paint2vr_role) or name, if the file has one.
export function findRole(root, role, name) {
  let found = null;
  root.traverse((o) => {
    if (!found && (o.name === name || (o.userData && o.userData.paint2vr_role === role))) found = o;
  });
  return found;
}

function meshesOf(node) {
  const out = [];
  if (!node) return out;
  node.traverse((o) => {
    if (o.isMesh) {
      o.material.side = THREE.DoubleSide;  // rays hit the ground and walls from either side
      out.push(o);
    }
  });
  node.visible = false;  // walk data, not scenery: hidden, still hit by rays
  return out;
}

// The walk zone: centre (x, z), radius and the ground and collider meshes.
export function walkZone(root, record, fallbackRadius, startPos) {
  const wz = (record && record.walk_zone) || {};
  const radius = typeof wz.radius_m === 'number' && wz.radius_m > 0 ? wz.radius_m : fallbackRadius;
  const start = Array.isArray(wz.start) && wz.start.length === 3 && wz.start.every(Number.isFinite)
    ? new THREE.Vector3(...wz.start) : startPos.clone();
  const navNode = findRole(root, 'navmesh', typeof wz.navmesh === 'string' ? wz.navmesh : NAVMESH_NAME);
  const colliderNode = findRole(root, 'collider', COLLIDER_NAME);
  return {
    centre: new THREE.Vector2(start.x, start.z), radius,
    ground: meshesOf(navNode), colliders: meshesOf(colliderNode),
  };
}

export class Locomotion {
  // rig: the group holding the camera (and controllers); camera: the eye inside it.
  constructor({ renderer, scene, rig, camera, root, record, fallbackRadius, startPos, startYaw }) {
    this.renderer = renderer;
    this.rig = rig;
    this.camera = camera;
    this.startPos = startPos.clone();
    this.startYaw = startYaw;
    this.zone = walkZone(root, record, fallbackRadius, startPos);
    this.raycaster = new THREE.Raycaster();
    this.tmp = new THREE.Vector3();
    const g0 = this.groundAt(startPos.x, startPos.z, startPos.y);
    this.eyeHeight = startPos.y - (g0 === null ? 0 : g0);  // desktop eye above the ground
    this.lastHead = new THREE.Vector2(startPos.x, startPos.z);
    this.snapArmed = true;
    this.snapTurns = 0;
    this.aiming = null;        // the controller aiming a teleport, while its trigger is held
    this.target = null;        // {point, valid} under the arc or the mouse
    this.lastTeleport = null;  // where the last teleport went
    this.buttonsDown = new Set();
    this.controllers = [0, 1].map((i) => this.setupController(renderer.xr.getController(i)));
    this.arc = new THREE.Line(new THREE.BufferGeometry().setFromPoints(
      Array.from({ length: ARC_STEPS + 1 }, () => new THREE.Vector3())),
    new THREE.LineBasicMaterial({ color: 0x66ddff }));
    this.arc.frustumCulled = false;
    this.arc.visible = false;
    this.marker = new THREE.Mesh(new THREE.RingGeometry(0.18, 0.25, 32).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: 0x66ddff, transparent: true, opacity: 0.85, depthTest: false }));
    this.marker.renderOrder = 5;
    this.marker.visible = false;
    scene.add(this.arc, this.marker);
  }

  setupController(ctrl) {
    this.rig.add(ctrl);
    ctrl.addEventListener('connected', (e) => { ctrl.userData.source = e.data; });
    ctrl.addEventListener('disconnected', () => { ctrl.userData.source = null; });
    ctrl.addEventListener('selectstart', () => { this.aiming = ctrl; });
    ctrl.addEventListener('selectend', () => {
      if (this.aiming === ctrl) this.teleport();
      this.aiming = null;
    });
    return ctrl;
  }

  // The ground's height under (x, z), searching down from a little above nearY; null: none.
  groundAt(x, z, nearY = 1e4) {
    if (!this.zone.ground.length) return 0;  // no navmesh: today's flat ground at y = 0
    this.raycaster.set(this.tmp.set(x, nearY + 2.0, z), DOWN);
    this.raycaster.far = Infinity;
    const hit = this.raycaster.intersectObjects(this.zone.ground, false)[0];
    return hit ? hit.point.y : null;
  }

  // Where the segment a -> b first meets the walkable ground (null: nowhere).
  hitGround(a, b) {
    const dir = this.tmp.subVectors(b, a);
    const len = dir.length();
    if (len < 1e-9) return null;
    dir.divideScalar(len);
    if (!this.zone.ground.length) {  // the plane y = 0
      if ((a.y > 0) === (b.y > 0)) return null;
      return a.clone().lerp(b, a.y / (a.y - b.y));
    }
    this.raycaster.set(a, dir);
    this.raycaster.far = len;
    const hit = this.raycaster.intersectObjects(this.zone.ground, false)[0];
    return hit ? hit.point.clone() : null;
  }

  // Distance along the horizontal move from (x, z) at ground y until a collider, or Infinity.
  colliderDistance(from, dir, reach, y) {
    if (!this.zone.colliders.length) return Infinity;
    let best = Infinity;
    for (const h of PROBE_HEIGHTS) {
      this.raycaster.set(this.tmp.set(from.x, y + h, from.y), new THREE.Vector3(dir.x, 0, dir.y));
      this.raycaster.far = reach;
      const hit = this.raycaster.intersectObjects(this.zone.colliders, false)[0];
      if (hit) best = Math.min(best, hit.distance);
    }
    return best;
  }

  inZone(p) {
    return p.distanceTo(this.zone.centre) <= this.zone.radius + 1e-6;
  }

  clampToZone(p) {
    const d = p.distanceTo(this.zone.centre);
    if (d > this.zone.radius) p.sub(this.zone.centre).multiplyScalar(this.zone.radius / d).add(this.zone.centre);
    return p;
  }

  // Ground under p (Vector2) if a visitor at height y may stand there, else null.
  standable(p, y) {
    const g = this.groundAt(p.x, p.y, y);
    return g !== null && Math.abs(g - y) <= MAX_STEP ? g : null;
  }

  // The farthest point towards `to` (both Vector2) a visitor standing at `from` reaches:
  // kept in the zone, on the ground, BODY_RADIUS short of colliders.
  reach(from, to, y) {
    const target = this.clampToZone(to.clone());
    const delta = target.clone().sub(from);
    const dist = delta.length();
    if (dist < 1e-9) return from.clone();
    const dir = delta.clone().divideScalar(dist);
    const wall = this.colliderDistance(from, dir, dist + BODY_RADIUS, y);
    let t = Math.min(dist, Math.max(0, wall - BODY_RADIUS)) / dist;
    if (t <= 0) return from.clone();
    if (this.standable(from.clone().addScaledVector(delta, t), y) === null) {
      let lo = 0;  // bisection: the last point still on the ground
      for (let i = 0; i < EDGE_ITERATIONS; i += 1) {
        const mid = (lo + t) / 2;
        if (this.standable(from.clone().addScaledVector(delta, mid), y) !== null) lo = mid; else t = mid;
      }
      t = lo;
    }
    return from.clone().addScaledVector(delta, t);
  }

  // A move from `from` towards `to`, sliding along an edge or wall when blocked head-on.
  move(from, to, y) {
    const full = this.reach(from, to, y);
    if (full.distanceTo(to) < 1e-4) return full;
    let best = full;
    for (const slide of [new THREE.Vector2(to.x, from.y), new THREE.Vector2(from.x, to.y)]) {
      const p = this.reach(from, slide, y);
      if (p.distanceTo(from) > best.distanceTo(from) + 1e-4) best = p;
    }
    return best;
  }

  headWorld() {
    return this.camera.getWorldPosition(new THREE.Vector3());
  }

  headYaw() {
    const dir = this.camera.getWorldDirection(new THREE.Vector3());
    return Math.atan2(-dir.x, -dir.z);
  }

  // Put the rig so the eye stands at (x, z) on the ground, keeping the rig's turn.
  placeHead(x, z) {
    const head = this.headWorld();
    this.rig.position.x += x - head.x;
    this.rig.position.z += z - head.z;
    const g = this.groundAt(x, z, this.rig.position.y);
    if (g !== null) this.rig.position.y = g;
    this.lastHead.set(x, z);
  }

  // Back to the painter's eye: the start position and heading (in VR the headset's own
  // offset and turn inside the room are cancelled).
  reset() {
    const presenting = this.renderer.xr.isPresenting;
    this.rig.position.set(this.startPos.x, this.groundAt(this.startPos.x, this.startPos.z) ?? 0, this.startPos.z);
    this.rig.rotation.set(0, this.startYaw, 0);
    this.rig.updateMatrixWorld(true);
    if (presenting) {
      this.rig.rotation.y = this.startYaw - (this.headYaw() - this.startYaw);
      this.rig.updateMatrixWorld(true);
    }
    this.lastHead.set(this.startPos.x, this.startPos.z);
    if (presenting) this.placeHead(this.startPos.x, this.startPos.z);
    this.aiming = null;
    this.target = null;
  }

  snapTurn(sign) {
    const head = this.headWorld();
    const pivot = new THREE.Vector3(head.x, this.rig.position.y, head.z);
    this.rig.position.sub(pivot).applyAxisAngle(UP, sign * SNAP_STEP).add(pivot);
    this.rig.rotation.y += sign * SNAP_STEP;
    this.snapTurns += 1;
  }

  // The point a teleport would go to, and whether it is allowed (on the ground, in the zone,
  // clear of colliders).
  judge(point) {
    if (!point) return null;
    const p = new THREE.Vector2(point.x, point.z);
    const clear = [[1, 0], [-1, 0], [0, 1], [0, -1]].every(
      ([dx, dz]) => this.colliderDistance(p, new THREE.Vector2(dx, dz), BODY_RADIUS, point.y) === Infinity);
    return { point, valid: this.inZone(p) && clear };
  }

  aimFrom(ctrl) {
    ctrl.updateMatrixWorld(true);
    const origin = new THREE.Vector3().setFromMatrixPosition(ctrl.matrixWorld);
    const dir = new THREE.Vector3(0, 0, -1).transformDirection(ctrl.matrixWorld);
    const pts = this.arc.geometry.attributes.position;
    let prev = origin.clone();
    let hit = null;
    let n = 0;
    pts.setXYZ(0, origin.x, origin.y, origin.z);
    for (let i = 1; i <= ARC_STEPS && !hit; i += 1) {
      const t = i * ARC_DT;
      const p = origin.clone().addScaledVector(dir, ARC_SPEED * t).addScaledVector(UP, -0.5 * GRAVITY * t * t);
      hit = this.hitGround(prev, p);
      const q = hit || p;
      pts.setXYZ(i, q.x, q.y, q.z);
      n = i;
      prev = p;
    }
    for (let i = n + 1; i <= ARC_STEPS; i += 1) pts.setXYZ(i, prev.x, prev.y, prev.z);
    pts.needsUpdate = true;
    this.arc.visible = true;
    return this.judge(hit);
  }

  // Desktop: the ground point under the mouse (normalised device coordinates).
  aimAtScreen(ndcX, ndcY) {
    this.raycaster.setFromCamera(new THREE.Vector2(ndcX, ndcY), this.camera);
    const a = this.raycaster.ray.origin.clone();
    const b = a.clone().addScaledVector(this.raycaster.ray.direction, 200);
    return this.judge(this.hitGround(a, b));
  }

  teleport(target = this.target) {
    if (target && target.valid) {
      this.placeHead(target.point.x, target.point.z);
      this.lastTeleport = target.point.clone();
    }
    this.target = null;
    this.arc.visible = false;
    this.marker.visible = false;
    return Boolean(target && target.valid);
  }

  showTarget(target) {
    this.target = target;
    this.marker.visible = Boolean(target);
    if (target) {
      this.marker.position.copy(target.point).addScaledVector(UP, 0.02);
      this.marker.material.color.set(target.valid ? 0x66ddff : 0xff5544);
    }
  }

  // Thumbsticks (xr-standard: axes 2, 3), snap turn on the right stick, B / Y to reset.
  readSticks(dt, move) {
    for (const ctrl of this.controllers) {
      const src = ctrl.userData.source;
      const pad = src && src.gamepad;
      if (!pad || pad.axes.length < 4) continue;
      const [x, y] = [pad.axes[2], pad.axes[3]];
      if (src.handedness === 'right') {
        if (this.snapArmed && Math.abs(x) > SNAP_ON) {
          this.snapTurn(x > 0 ? -1 : 1);
          this.snapArmed = false;
        } else if (Math.abs(x) < SNAP_REARM) this.snapArmed = true;
      } else if (Math.hypot(x, y) > DEADZONE) {
        const step = new THREE.Vector3(x, 0, y).multiplyScalar(STICK_SPEED * dt);
        move.add(step.applyAxisAngle(UP, this.headYaw()));
      }
      const reset = pad.buttons[5] && pad.buttons[5].pressed;
      const key = `${src.handedness}:reset`;
      if (reset && !this.buttonsDown.has(key)) this.reset();
      if (reset) this.buttonsDown.add(key); else this.buttonsDown.delete(key);
    }
  }

  // One frame: `move` (Vector3, world metres) from the keys; sticks, teleport aim, then the
  // eye's motion (including the visitor's own steps in a room) kept in the zone and on the ground.
  update(dt, move) {
    if (this.renderer.xr.isPresenting) this.readSticks(dt, move);
    if (this.aiming) this.showTarget(this.aimFrom(this.aiming));
    else if (this.arc.visible) { this.arc.visible = false; this.marker.visible = false; }
    this.rig.updateMatrixWorld(true);
    const head = this.headWorld();
    const wanted = new THREE.Vector2(head.x + move.x, head.z + move.z);
    const from = this.lastHead.clone();
    const got = this.move(from, wanted, this.rig.position.y);
    this.rig.position.x += got.x - head.x;
    this.rig.position.z += got.y - head.z;
    const g = this.standable(got, this.rig.position.y);
    if (g !== null) this.rig.position.y = g;
    this.lastHead.copy(got);
  }

  // Test hooks: what the visitor's walk looks like now.
  report() {
    const head = this.headWorld();
    return {
      head: head.toArray(), rigYaw: this.rig.rotation.y, rigY: this.rig.position.y, snapTurns: this.snapTurns,
      zone: { centre: this.zone.centre.toArray(), radius: this.zone.radius, navmesh: this.zone.ground.length > 0,
        collider: this.zone.colliders.length > 0,
        hidden: [...this.zone.ground, ...this.zone.colliders].every((m) => !isShown(m)) },
      target: this.target && { point: this.target.point.toArray(), valid: this.target.valid },
      marker: this.marker.visible, arc: this.arc.visible,
      lastTeleport: this.lastTeleport && this.lastTeleport.toArray(),
      groundUnderHead: this.groundAt(head.x, head.z, this.rig.position.y),
    };
  }
}

function isShown(obj) {
  for (let o = obj; o; o = o.parent) if (!o.visible) return false;
  return true;
}

// The page's "Return to start" button (the R key does the same): the page's own (in its
// toolbar), or a new one at the bottom left on a page without it.
export function addResetButton(onReset) {
  let button = document.getElementById('reset-button');
  if (!button) {
    button = document.createElement('button');
    button.id = 'reset-button';
    button.type = 'button';
    button.textContent = 'Return to start';
    Object.assign(button.style, {
      position: 'absolute', left: '12px', bottom: '20px', padding: '10px 14px', zIndex: 999,
      border: '1px solid #fff', borderRadius: '4px', background: 'rgba(0,0,0,0.2)', color: '#fff',
      font: '13px sans-serif', cursor: 'pointer',
    });
    document.body.appendChild(button);
  }
  button.addEventListener('click', (e) => { e.stopPropagation(); onReset(); button.blur(); });
  return button;
}
