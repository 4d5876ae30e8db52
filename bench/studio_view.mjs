// The studio's feedback loop as the page sees it, in headless Chromium (playwright-core): open the
// studio, then place pins one click at a time; per pin, the depth update's and the 3D view's seconds
// (lift, export, transfer and three.js loading) from the page's status line.
// Usage: node bench/studio_view.mjs URL PINS. Prints one JSON object. Used by bench/studio_bench.py --browser.
import { launchChromium } from '../scripts/chromium.mjs';

const [url, pins] = process.argv.slice(2);
const result = { depth_s: [], view_s: [], errors: [] };
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => result.errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.ready === '1' && document.body.dataset.sceneRevision, null,
    { timeout: 300000 });
  await page.check('input[name=tool][value=pin]');
  const box = await page.locator('#draw').boundingBox();
  for (let i = 0; i < Number(pins); i++) {
    const rev = await page.evaluate(() => document.body.dataset.revision);
    await page.mouse.click(box.x + (0.2 + 0.6 * i / Math.max(1, Number(pins) - 1)) * box.width, box.y + 0.8 * box.height);
    await page.waitForFunction((b) => document.body.dataset.revision !== b
      && document.body.dataset.sceneRevision === document.body.dataset.revision, rev, { timeout: 300000 });
    const status = await page.textContent('#status');
    const m = status.match(/depth updated in ([\d.]+) s · 3D view in ([\d.]+) s/);
    if (m) { result.depth_s.push(Number(m[1])); result.view_s.push(Number(m[2])); } else result.errors.push(status);
  }
} catch (e) {
  result.errors.push(String(e && e.stack || e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
