// Load a KTX2 + meshopt scene in the viewer (headless Chromium) and report what three.js made
// of it: the textures (compressed or not, size, mips), the byte progress, errors; then reload
// the page (the server answers the scene with 304) and screenshot the canvas.
// Usage: node tests/viewer/compressed_check.mjs URL OUT_DIR
import { launchChromium } from '../../scripts/chromium.mjs';
import path from 'node:path';

const [url, outDir] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], responses: [] };
const browser = await launchChromium();
const ready = () => window.__paint2vr && (window.__paint2vr.error || window.__paint2vr.frames > 5);
try {
  const context = await browser.newContext({ viewport: { width: 320, height: 240 } });
  const page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => result.pageErrors.push(String(err)));
  page.on('response', (res) => { if (res.url().includes('/scene/')) result.responses.push(res.status()); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(ready, null, { timeout: 120000 });
  result.error = await page.evaluate(() => window.__paint2vr.error);
  result.textures = await page.evaluate(() => window.__paint2vr.textures());
  result.progress = await page.evaluate(() => window.__paint2vr.progress);
  result.paintingRect = await page.evaluate(() => window.__paint2vr.paintingRect());
  await page.goto(url, { waitUntil: 'load' });  // a second visit: the cached scene is revalidated
  await page.waitForFunction(ready, null, { timeout: 120000 });
  result.errorAfterReload = await page.evaluate(() => window.__paint2vr.error);
  // What the browser itself says it fetched: a revalidated (304) scene transfers only headers.
  result.sceneTiming = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/scene/'))
    .map((e) => ({ transferSize: e.transferSize, encodedBodySize: e.encodedBodySize })));
  await page.addStyleTag({ content: '.p2v-ui, #VRButton { visibility: hidden !important; }' });
  await page.waitForTimeout(200);
  result.shot = path.join(outDir, 'compressed.png');
  await page.screenshot({ path: result.shot, timeout: 120000 });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
