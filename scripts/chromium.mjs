// Headless Chromium for the browser tests and benchmarks: Debian's chromium through
// playwright-core, software WebGL (SwiftShader), and no background connections (this
// machine's network is closed; Chromium's own update and sync requests only fail and slow it).
// Usage: import { launchChromium } from '../../scripts/chromium.mjs'; const browser = await launchChromium();
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-dev-shm-usage',
];

export function launchChromium({ timeout = 30000 } = {}) {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', timeout, args: CHROMIUM_ARGS });
}
