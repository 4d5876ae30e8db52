// The review queue in headless Chromium: list the batch's scenes, open the first, set a region's
// depth, save. Usage: node tests/studio/studio_queue.mjs URL OUT_DIR. Prints one JSON object.
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], badResponses: [] };
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.pageErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) result.badResponses.push(`${r.status()} ${r.url()}`); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  result.cards = await page.$$eval('.card', (cs) => cs.map((c) => c.dataset.id));
  result.confidence = await page.$$eval('.card .tag.confidence', (ts) => ts.map((t) => t.textContent.split(' · ')[0]));
  await page.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30000 });
  await page.screenshot({ path: path.join(outDir, 'studio_queue.png') });
  await page.click('.card >> nth=0');
  await page.waitForFunction(() => document.body.dataset.ready === '1' && document.body.dataset.revision, null, { timeout: 120000 });
  const rev = await page.evaluate(() => document.body.dataset.revision);
  await page.fill('#depth', '3');
  await page.check('input[name=tool][value=region]');
  const box = await page.locator('#draw').boundingBox();
  const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(0.2, 0.6)); await page.mouse.down();
  for (const [x, y] of [[0.4, 0.6], [0.4, 0.9], [0.2, 0.9]]) await page.mouse.move(...at(x, y), { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction((b) => document.body.dataset.revision !== b, rev, { timeout: 60000 });
  await page.click('#save');
  await page.waitForFunction(() => document.body.dataset.saved, null, { timeout: 30000 });
  result.status = await page.textContent('#status');
  result.opened = new URL(page.url()).searchParams.get('item');
} catch (e) {
  result.error = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
