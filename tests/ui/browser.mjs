// What the browser tests share: their environment, steps and assertions, and a headless
// Chromium (the system's, through playwright-core; no download) with a throw-away profile.

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

export function step(prefix, text) {
  console.log(`${prefix}: ${text}`);
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

const require = createRequire(import.meta.url);
const profiles = [];

// A fresh browser with its own, throw-away profile (playwright passes --user-data-dir).
export async function launch() {
  const { chromium } = require(env('PLAYWRIGHT_CORE'));
  const profile = mkdtempSync(join(tmpdir(), 'toolhost-ui-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: env('CHROMIUM'),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Removes every profile `launch` made.
export function removeProfiles() {
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
}
