// paint2vr viewer: the painting's frame kept clear of the page's UI.
// From the start pose the painting fills the start camera's frustum (its vertical field of
// view and aspect ratio). The card (above) and the toolbar (below) take bands of the window;
// the desktop camera is widened and its view shifted so that the frame lands between them,
// centred and as large as fits: no button or text covers the painting at the start pose.
// In VR the headset's own projection is used and the card is a museum label in the scene.
import * as THREE from 'three';

const GAP = 8;          // pixels between the frame and a UI band
const MIN_FREE = 0.25;  // the frame keeps at least this fraction of the window's height

// The painting's frame seen from the start camera: tan of half its vertical field of view and
// its aspect ratio (a scene without a camera: 50 degrees and the window's shape).
export function frameOf(startCamera, fallbackAspect) {
  if (startCamera && startCamera.isPerspectiveCamera) {
    return { tanY: Math.tan(THREE.MathUtils.degToRad(startCamera.fov) / 2), aspect: startCamera.aspect || fallbackAspect };
  }
  return { tanY: Math.tan(THREE.MathUtils.degToRad(50) / 2), aspect: fallbackAspect };
}

// Bands the visible UI takes at the top and bottom of the window, in pixels (0 without UI).
export function uiInsets(card, toolbar, height) {
  const shown = (el) => el && el.offsetParent !== null && el.getClientRects().length > 0;
  const top = shown(card) ? card.getBoundingClientRect().bottom + GAP : 0;
  const boxes = shown(toolbar) ? [...toolbar.children].filter(shown).map((b) => b.getBoundingClientRect().top) : [];
  const bottom = boxes.length ? height - Math.min(...boxes) + GAP : 0;
  return { top: Math.max(0, top), bottom: Math.max(0, bottom) };
}

// The camera (vertical fov in degrees, vertical view offset in pixels) that shows `frame`
// centred in the window's free band, and where the frame lands (CSS pixels).
export function fitFrame(frame, width, height, insets) {
  let { top, bottom } = insets;
  if (height - top - bottom < MIN_FREE * height) {
    const k = (1 - MIN_FREE) * height / Math.max(top + bottom, 1e-6);
    top *= k;
    bottom *= k;
  }
  const free = height - top - bottom;
  const tanX = frame.tanY * frame.aspect;
  const scale = Math.min(free / (2 * frame.tanY), width / (2 * tanX));  // pixels per unit of tan
  const centreY = top + free / 2;
  return {
    fov: THREE.MathUtils.radToDeg(2 * Math.atan(height / (2 * scale))),
    offsetY: height / 2 - centreY,
    rect: { left: width / 2 - scale * tanX, right: width / 2 + scale * tanX,
      top: centreY - scale * frame.tanY, bottom: centreY + scale * frame.tanY },
  };
}

export function applyFit(camera, fit, width, height) {
  camera.fov = fit.fov;
  camera.aspect = width / height;
  camera.zoom = 1;
  if (Math.abs(fit.offsetY) > 1e-3) camera.setViewOffset(width, height, 0, fit.offsetY, width, height);
  else camera.clearViewOffset();
  camera.updateProjectionMatrix();
}
