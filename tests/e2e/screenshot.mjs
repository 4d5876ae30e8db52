// Load the paint2vr viewer page in headless Chromium and screenshot the canvas from the
// scene's start camera. Usage: node screenshot.mjs URL OUT.png WIDTH HEIGHT
// Prints one JSON object: console/page errors and the screenshot path.
import { launchChromium } from '../../scripts/chromium.mjs';

const [url, out, width, height] = process.argv.slice(2);
const result = { consoleErrors: [], pageErrors: [], shot: out };
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: Number(height) } });
  page.on('console', (msg) => { if (msg.type() === 'error') result.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => result.pageErrors.push(String(err)));
  // ?ui=0: the bare view, the painting's frame filling the window (no card, no buttons).
  const target = new URL(url);
  target.searchParams.set('ui', '0');
  for (const [k, v] of new URLSearchParams(process.env.P2V_QUERY || '')) target.searchParams.set(k, v);
  await page.goto(target.href, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__paint2vr && (window.__paint2vr.error || window.__paint2vr.frames > 5),
    null, { timeout: 90000 });
  result.error = await page.evaluate(() => window.__paint2vr.error);
  await page.addStyleTag({ content: '.p2v-ui, #VRButton { visibility: hidden !important; }' });
  await page.waitForTimeout(200);
  // The page's viewport is the canvas; a page screenshot does not wait for element stability,
  // which a loaded machine can take longer than the default timeout to report.
  await page.screenshot({ path: out, timeout: 120000 });
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
