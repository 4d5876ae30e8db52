// Walk through a scene in the paint2vr viewer (headless Chromium, playwright-core): desktop
// keys, mouse look and double-click teleport, then on the emulated Meta Quest 3 (IWER)
// thumbstick walking, snap turn, trigger teleport and the B button reset.
// Usage: node tests/viewer/locomotion_check.mjs URL OUT_DIR   (prints one JSON object)
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir] = process.argv.slice(2);
const result = { pageErrors: [], consoleErrors: [], steps: {} };
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 480, height: 360 } });
page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
page.on('pageerror', (err) => result.pageErrors.push(String(err)));

const report = () => page.evaluate(() => window.__paint2vr.locomotion());
const frames = () => page.evaluate(() => window.__paint2vr.frames);
async function waitFrames(n) {
  const f0 = await frames();
  await page.waitForFunction((f) => window.__paint2vr.frames >= f, f0 + n, { timeout: 20000 });
}
// Keep an input held until the eye stops moving (slow software rendering: no fixed times).
async function holdUntilStill(press, release, maxMs = 12000) {
  await press();
  const t0 = Date.now();
  let last = (await report()).head;
  let still = 0;
  while (Date.now() - t0 < maxMs && still < 3) {
    await waitFrames(4);
    const head = (await report()).head;
    const moved = Math.hypot(head[0] - last[0], head[2] - last[2]);
    still = moved < 1e-4 ? still + 1 : 0;
    last = head;
  }
  await release();
  await waitFrames(2);
  return report();
}
const xr = (fn, arg) => page.evaluate(fn, arg);
function quat(yawDeg, pitchDeg) {  // q = qy * qx (yaw, then pitch)
  const a = yawDeg * Math.PI / 360; const b = pitchDeg * Math.PI / 360;
  return [Math.cos(a) * Math.sin(b), Math.sin(a) * Math.cos(b), -Math.sin(a) * Math.sin(b), Math.cos(a) * Math.cos(b)];
}

try {
  await page.goto(url + '?emulate=1', { waitUntil: 'load' });
  await page.waitForFunction(() => window.__paint2vr && (window.__paint2vr.error || window.__paint2vr.frames > 5),
    null, { timeout: 30000 });
  result.error = await page.evaluate(() => window.__paint2vr.error);
  if (result.error) throw new Error(result.error);
  await page.addStyleTag({ content: '#overlay { visibility: hidden !important; }' });
  const S = result.steps;
  S.start = await report();
  const canvas = page.locator('canvas');
  await canvas.click({ position: { x: 240, y: 180 } });

  // Desktop: walk forward up the slope to the zone's edge, back into the wall, sideways
  // off the navmesh's edge; R and the button return to the start.
  const key = (k) => [() => page.keyboard.down(k), () => page.keyboard.up(k)];
  S.forward = await holdUntilStill(...key('KeyW'));
  await page.keyboard.press('KeyR'); await waitFrames(2);
  S.afterR = await report();
  S.back = await holdUntilStill(...key('KeyS'));
  await page.keyboard.press('KeyR'); await waitFrames(2);
  S.right = await holdUntilStill(...key('KeyD'));
  await page.locator('#reset-button').click(); await waitFrames(2);
  S.afterButton = await report();
  // Mouse: drag down to look at the ground, double-click it to jump there.
  await page.mouse.move(240, 100);
  await page.mouse.down();
  await page.mouse.move(240, 300, { steps: 10 });
  await page.mouse.up();
  await waitFrames(2);
  await canvas.dblclick({ position: { x: 240, y: 180 } });
  await waitFrames(2);
  S.dblclick = await report();
  await page.keyboard.press('KeyR'); await waitFrames(2);
  result.desktopShot = path.join(outDir, 'desktop.png');
  await canvas.screenshot({ path: result.desktopShot });

  // VR on the emulated Quest 3.
  await page.waitForFunction(() => /ENTER VR/.test((document.getElementById('VRButton') || {}).textContent || ''),
    null, { timeout: 10000 });
  await page.locator('#VRButton').click();
  await page.waitForFunction(() => window.__paint2vr.presenting() && window.__paint2vr.xrFrames > 3, null, { timeout: 15000 });
  await waitFrames(3);
  S.vrStart = await report();
  const stick = (hand, x, y) => xr(([h, x, y]) => window.__paint2vr.xrDevice.controllers[h].updateAxes('thumbstick', x, y), [hand, x, y]);
  const button = (hand, id, v) => xr(([h, id, v]) => window.__paint2vr.xrDevice.controllers[h].updateButtonValue(id, v), [hand, id, v]);
  // Left stick forward for a moment, then until the zone's edge stops the visitor.
  await stick('left', 0, -1); await waitFrames(6); await stick('left', 0, 0); await waitFrames(2);
  S.stickShort = await report();
  S.stickFar = await holdUntilStill(() => stick('left', 0, -1), () => stick('left', 0, 0));
  await button('right', 'b-button', 1); await waitFrames(3); await button('right', 'b-button', 0); await waitFrames(2);
  S.afterB = await report();
  // Snap turn: right stick pushed right (and held: one step only), then left twice.
  await stick('right', 1, 0); await waitFrames(8); await stick('right', 0, 0); await waitFrames(3);
  S.snapRight = await report();
  for (let i = 0; i < 2; i += 1) { await stick('right', -1, 0); await waitFrames(4); await stick('right', 0, 0); await waitFrames(4); }
  S.snapLeft2 = await report();
  await button('right', 'b-button', 1); await waitFrames(3); await button('right', 'b-button', 0); await waitFrames(2);
  // Teleport: the right controller aims down at the ground in the zone, trigger held, released.
  const aim = (pitch) => xr(([q]) => {
    const c = window.__paint2vr.xrDevice.controllers.right;
    c.position.set(0.2, 1.4, -0.3); c.quaternion.set(...q);
  }, [quat(0, pitch)]);
  await aim(-30); await waitFrames(3);
  await button('right', 'trigger', 1); await waitFrames(5);
  S.aiming = await report();
  await button('right', 'trigger', 0); await waitFrames(4);
  S.teleported = await report();
  // From the start, aimed at the ground beyond the zone: the marker says no, nothing moves.
  await button('right', 'b-button', 1); await waitFrames(3); await button('right', 'b-button', 0); await waitFrames(2);
  await aim(-15); await waitFrames(3);
  await button('right', 'trigger', 1); await waitFrames(5);
  S.aimingFar = await report();
  await button('right', 'trigger', 0); await waitFrames(4);
  S.afterFar = await report();
  await button('right', 'b-button', 1); await waitFrames(3); await button('right', 'b-button', 0); await waitFrames(2);
  S.vrReset = await report();
  // Turn round and look down at the wall and the floor: the magenta walk nodes stay hidden.
  await xr(([q]) => window.__paint2vr.xrDevice.quaternion.set(...q), [quat(180, -35)]);
  await waitFrames(4);
  result.vrShot = path.join(outDir, 'vr_back.png');
  await canvas.screenshot({ path: result.vrShot });
} catch (err) {
  result.failure = String(err && err.stack ? err.stack : err).slice(0, 2000);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
