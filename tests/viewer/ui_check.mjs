// The viewer's UI in headless Chromium: where the card and the buttons are against the
// painting's frame, the card's toggle, the reset and fullscreen buttons, Enter VR's place.
// Usage: node tests/viewer/ui_check.mjs URL OUT_DIR WxH[,WxH...]
// Prints one JSON object; per viewport: the UI boxes (CSS pixels), the frame the page says it
// fitted, and screenshots with the UI hidden (visibility only: the layout stays) from which
// the test finds the painting's pixels itself.
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir, sizes] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], views: [] };
const browser = await launchChromium();
const IDS = ['overlay', 'card-toggle', 'reset-button', 'fullscreen-button', 'VRButton'];

async function frames(page, n) {
  const f0 = await page.evaluate(() => window.__paint2vr.frames);
  await page.waitForFunction((f) => window.__paint2vr.frames > f, f0 + n, { timeout: 20000 });
}

async function snapshot(page, name) {
  await frames(page, 2);
  const boxes = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const el = document.getElementById(id);
    if (!el || el.offsetParent === null) return [id, null];
    const r = el.getBoundingClientRect();
    return [id, { left: r.left, top: r.top, right: r.right, bottom: r.bottom, parent: el.parentElement.id,
      text: el.textContent }];
  })), IDS);
  const hide = await page.addStyleTag({ content: '.p2v-ui, #VRButton { visibility: hidden !important; }' });
  await frames(page, 2);
  const shot = path.join(outDir, `${name}.png`);
  await page.screenshot({ path: shot, timeout: 120000 });
  await hide.evaluate((el) => el.remove());
  return { boxes, shot, rect: await page.evaluate(() => window.__paint2vr.paintingRect()) };
}

async function interact(page, view) {
  // The card's toggle: collapse, then expand again.
  await page.locator('#card-toggle').click();
  view.collapsed = await snapshot(page, `${view.name}_collapsed`);
  view.collapsed.state = await page.evaluate(() => ({
    expanded: document.getElementById('card-toggle').getAttribute('aria-expanded'),
    bodyShown: document.getElementById('card-body').offsetParent !== null,
    overlayText: document.getElementById('overlay').innerText,
  }));
  await page.locator('#card-toggle').click();
  await frames(page, 2);
  view.reexpanded = await page.evaluate(() => ({
    expanded: document.getElementById('card-toggle').getAttribute('aria-expanded'),
    bodyShown: document.getElementById('card-body').offsetParent !== null,
  }));
  // Reset: look away by dragging, then the button brings back the start view.
  view.startView = await page.evaluate(() => window.__paint2vr.view());
  await page.mouse.move(view.width / 2, view.height / 2);
  await page.mouse.down();
  await page.mouse.move(view.width / 2 + 150, view.height / 2 + 60, { steps: 10 });
  await page.mouse.up();
  await frames(page, 2);
  view.turnedView = await page.evaluate(() => window.__paint2vr.view());
  await page.locator('#reset-button').click();
  await frames(page, 2);
  view.resetView = await page.evaluate(() => window.__paint2vr.view());
  view.resetCamera = await page.evaluate(() => window.__paint2vr.cameraPosition());
  // Fullscreen on, then off.
  await page.locator('#fullscreen-button').click();
  await page.waitForFunction(() => document.fullscreenElement !== null, null, { timeout: 10000 }).catch(() => {});
  view.fullscreenOn = await page.evaluate(() => ({ on: document.fullscreenElement !== null,
    label: document.getElementById('fullscreen-button').textContent }));
  await page.locator('#fullscreen-button').click();
  await page.waitForFunction(() => document.fullscreenElement === null, null, { timeout: 10000 }).catch(() => {});
  view.fullscreenOff = await page.evaluate(() => ({ on: document.fullscreenElement !== null,
    label: document.getElementById('fullscreen-button').textContent }));
}

try {
  for (const [i, size] of sizes.split(',').entries()) {
    const [width, height] = size.split('x').map(Number);
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => result.pageErrors.push(String(err)));
    await page.goto(url + '?emulate=1', { waitUntil: 'load' });
    await page.waitForFunction(() => window.__paint2vr && (window.__paint2vr.error || window.__paint2vr.frames > 5),
      null, { timeout: 60000 });
    await page.waitForFunction(() => /ENTER VR/.test((document.getElementById('VRButton') || {}).textContent || ''),
      null, { timeout: 10000 });
    const view = { name: `v${i}`, width, height, error: await page.evaluate(() => window.__paint2vr.error) };
    view.start = await snapshot(page, `${view.name}_start`);
    if (i === 0) await interact(page, view);
    result.views.push(view);
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
