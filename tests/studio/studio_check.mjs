// Drive the paint2vr studio in headless Chromium (playwright-core), as a designer would:
// drag the horizon, paint sky, lasso a region and set its depth, save; then try forged writes
// from another origin. Usage: node tests/studio/studio_check.mjs URL OUT_DIR REGION_DEPTH
// Prints one JSON object (errors, the saved sha256, screenshots, forged-write statuses).
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir, regionDepth] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], badResponses: [] };
const browser = await launchChromium();

async function drag(page, points) {
  const box = await page.locator('#draw').boundingBox();
  const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
  await page.mouse.up();
}
async function settled(page, before) {
  // A new preview revision, then no request in flight.
  await page.waitForFunction((b) => document.body.dataset.revision && document.body.dataset.revision !== b, before,
    { timeout: 60000 });
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) result.badResponses.push(`${r.status()} ${r.url()}`); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 90000 });
  await page.waitForFunction(() => document.body.dataset.sceneRevision, null, { timeout: 90000 });
  await page.screenshot({ path: path.join(outDir, 'studio_start.png') });

  let rev = await page.evaluate(() => document.body.dataset.revision);
  await page.check('input[name=tool][value=horizon]');
  await drag(page, [[0.5, 0.45], [0.5, 0.42], [0.5, 0.40]]);
  await settled(page, rev);

  rev = await page.evaluate(() => document.body.dataset.revision);
  await page.check('input[name=tool][value=sky]');
  await drag(page, [[0.01, 0.01], [0.99, 0.01], [0.99, 0.12], [0.01, 0.12]]);
  await settled(page, rev);

  rev = await page.evaluate(() => document.body.dataset.revision);
  await page.fill('#depth', String(regionDepth));
  await page.check('input[name=tool][value=region]');
  await drag(page, [[0.15, 0.62], [0.35, 0.62], [0.35, 0.88], [0.15, 0.88]]);
  await settled(page, rev);
  await page.waitForFunction(() => document.body.dataset.sceneRevision === document.body.dataset.revision, null,
    { timeout: 90000 });
  result.sceneStatus = await page.textContent('#status');
  result.sceneSeconds = Number(await page.evaluate(() => document.body.dataset.sceneSeconds));
  result.walkNodesHidden = Number(await page.evaluate(() => document.body.dataset.walkNodesHidden));

  const t0 = Date.now();
  await page.click('#save');
  await page.waitForFunction(() => document.body.dataset.saved, null, { timeout: 30000 });
  result.saveMs = Date.now() - t0;
  result.saved = await page.evaluate(() => document.body.dataset.saved);
  result.status = await page.textContent('#status');
  await page.waitForFunction(() => document.body.dataset.sceneRevision === document.body.dataset.revision, null,
    { timeout: 90000 });
  await page.check('input[name=overlay][value=depth]');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, 'studio_edited.png') });

  // Undo and redo move through the history: undo drops the region, redo brings it back.
  const regions = () => page.evaluate(() => (window.__studio.edits().regions || []).length);
  result.regions = [await regions()];
  await page.click('#undo');
  result.regions.push(await regions());
  await page.click('#redo');
  result.regions.push(await regions());

  // Forged writes: another web page cannot write through the studio.
  const evil = await browser.newPage();
  await evil.goto('about:blank');
  result.forged = await evil.evaluate(async (target) => {
    const out = {};
    for (const [name, headers] of [['none', {}], ['wrong', { 'X-Paint2vr-Token': 'forged' }]]) {
      try {
        const r = await fetch(target + 'api/edits', { method: 'PUT', body: '{"paint2vr_edits": 1}', headers, mode: 'cors' });
        out[name] = r.status;
      } catch (e) { out[name] = 'blocked'; }
    }
    return out;
  }, url);
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
