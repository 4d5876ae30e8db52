// Drive the paint2vr viewer in headless Chromium (playwright-core) and report what it saw.
// Usage: node tests/viewer/browser_check.mjs URL OUT_DIR
// Prints one JSON object: console errors, two screenshots' paths, the animation clock and
// animated node positions at two moments, and whether Enter VR started an immersive session
// on the emulated Meta Quest 3 (IWER, loaded by the page with ?emulate=1).
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], failedRequests: [], badResponses: [] };

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 640, height: 480 } });
  page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => result.pageErrors.push(String(err)));
  page.on('requestfailed', (req) => result.failedRequests.push(`${req.url()} ${req.failure() && req.failure().errorText}`));
  page.on('response', (res) => { if (res.status() >= 400) result.badResponses.push(`${res.status()} ${res.url()}`); });

  await page.goto(url + '?emulate=1', { waitUntil: 'load' });
  await page.waitForFunction(() => window.__paint2vr && (window.__paint2vr.error || window.__paint2vr.frames > 5),
    null, { timeout: 30000 });
  result.error = await page.evaluate(() => window.__paint2vr.error);
  if (!result.error) {
    result.provenance = await page.evaluate(() => window.__paint2vr.provenance);
    result.overlay = await page.evaluate(() => document.getElementById('overlay').innerText);
    result.clips = await page.evaluate(() => window.__paint2vr.clips);
    result.start = await page.evaluate(() => window.__paint2vr.start);
    result.camera0 = await page.evaluate(() => window.__paint2vr.cameraPosition());
    // Where the painting's frame is on the canvas (between the card and the toolbar).
    result.paintingRect = await page.evaluate(() => window.__paint2vr.paintingRect());
    // Screenshots of the painting alone: hide the provenance overlay and the VR button.
    const hide = await page.addStyleTag({ content: '.p2v-ui, #VRButton { visibility: hidden !important; }' });
    const probe = () => page.evaluate(() => ({
      t: window.__paint2vr.mixerTime(), nodes: window.__paint2vr.nodePositions(), frames: window.__paint2vr.frames,
    }));
    result.before = await probe();
    result.shot1 = path.join(outDir, 'shot1.png');
    await page.locator('canvas').screenshot({ path: result.shot1 });
    await page.waitForTimeout(600);
    result.after = await probe();
    result.shot2 = path.join(outDir, 'shot2.png');
    await page.locator('canvas').screenshot({ path: result.shot2 });
    await hide.evaluate((el) => el.remove());

    // Walk far forward: the walkable zone must hold the eye near the start.
    await page.locator('canvas').click();
    await page.keyboard.down('KeyW');
    await page.waitForTimeout(1500);
    // Software rendering under load draws few frames (each moves at most 0.1 s worth): keep
    // walking until the eye reaches the zone's edge, or stops short of it for good.
    await page.waitForFunction(() => {
      const [x, , z] = window.__paint2vr.cameraPosition();
      return Math.hypot(x, z) >= window.__paint2vr.walkRadius - 0.005;
    }, null, { timeout: 10000 }).catch(() => {});
    await page.waitForTimeout(300);
    await page.keyboard.up('KeyW');
    result.cameraWalked = await page.evaluate(() => window.__paint2vr.cameraPosition());
    result.walkRadius = await page.evaluate(() => window.__paint2vr.walkRadius);
    // No navmesh in this file: R, then look steeply down and double-click the flat ground.
    await page.keyboard.press('KeyR');
    await page.mouse.move(320, 60);
    await page.mouse.down();
    await page.mouse.move(320, 390, { steps: 12 });
    await page.mouse.up();
    const f0 = await page.evaluate(() => window.__paint2vr.frames);
    await page.waitForFunction((f) => window.__paint2vr.frames > f + 2, f0, { timeout: 10000 });
    // The view's axis (the frame's centre, below the window's centre by the card's band).
    const r = result.paintingRect;
    await page.locator('canvas').dblclick({ position: { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2 } });
    await page.waitForFunction((f) => window.__paint2vr.frames > f + 6, f0, { timeout: 10000 });
    result.flatTeleport = await page.evaluate(() => window.__paint2vr.locomotion());
    await page.keyboard.press('KeyR');

    const button = page.locator('#VRButton');
    await page.waitForFunction(() => {
      const b = document.getElementById('VRButton');
      return b && /ENTER VR|NOT SUPPORTED|NOT ALLOWED|NOT AVAILABLE/i.test(b.textContent);
    }, null, { timeout: 10000 });
    result.buttonBefore = await button.textContent();
    result.labelBefore = await page.evaluate(() => window.__paint2vr.label());
    await button.click();
    try {
      await page.waitForFunction(() => window.__paint2vr.presenting() && window.__paint2vr.xrFrames > 3,
        null, { timeout: 10000 });
    } catch (err) {
      result.xrWaitError = String(err).slice(0, 300);
    }
    result.presenting = await page.evaluate(() => window.__paint2vr.presenting());
    result.xrFrames = await page.evaluate(() => window.__paint2vr.xrFrames);
    result.buttonAfter = await button.textContent();
    result.labelInVR = await page.evaluate(() => window.__paint2vr.label());
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
