import { chromium } from 'playwright-core';
const [url, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new','--no-sandbox','--use-angle=swiftshader','--enable-unsafe-swiftshader'] });
const page = await browser.newPage({ viewport: { width: 600, height: 400 } });
await page.goto(url + '?emulate=1');
await page.waitForFunction(() => window.__paint2vr && window.__paint2vr.frames > 5);
await page.waitForFunction(() => /ENTER VR/.test(document.getElementById('VRButton').textContent));
await page.locator('#VRButton').click();
await page.waitForFunction(() => window.__paint2vr.presenting() && window.__paint2vr.xrFrames > 3);
const views = [[0,0],[45,0],[90,0],[180,0],[0,60],[120,-50]];
for (const [yaw, pitch] of views) {
  await page.evaluate(([yaw, pitch]) => { const d = window.__paint2vr.xrDevice; const a = yaw*Math.PI/180, b = pitch*Math.PI/180;
    // yaw then pitch: q = qy * qx
    const qy = [0, Math.sin(a/2), 0, Math.cos(a/2)], qx = [Math.sin(b/2), 0, 0, Math.cos(b/2)];
    const x = qy[3]*qx[0] + qy[0]*qx[3] + qy[1]*qx[2] - qy[2]*qx[1];
    const y = qy[3]*qx[1] - qy[0]*qx[2] + qy[1]*qx[3] + qy[2]*qx[0];
    const z = qy[3]*qx[2] + qy[0]*qx[1] - qy[1]*qx[0] + qy[2]*qx[3];
    const w = qy[3]*qx[3] - qy[0]*qx[0] - qy[1]*qx[1] - qy[2]*qx[2];
    d.quaternion.set(x, y, z, w); }, [yaw, pitch]);
  await page.waitForTimeout(400);
  await page.locator('canvas').screenshot({ path: `${out}_${yaw}_${pitch}.png` });
}
await browser.close();
