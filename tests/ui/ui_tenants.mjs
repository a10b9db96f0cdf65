// Two tenants' admin UIs under one `toolhost serve`, in one headless Chromium: each page is
// served at /t/<tenant>/, signs in with its own link and cookie, lists its own tenant's
// approvals only, and stays signed in while the other is used; B's approval is approved in
// B's page. Screenshots go to $SCREENSHOT_DIR (tenants-*.png).
//
// Environment (tests/all/ui_tenants.rs sets it): UI_URL (tenant a's link), UI_URL_B
// (tenant b's link), A_ID, B_ID (each tenant's pending approval), CHROMIUM,
// PLAYWRIGHT_CORE, SCREENSHOT_DIR.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, env, launch, removeProfiles, step as say } from './browser.mjs';

const shots = env('SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });
const step = (text) => say('ui-tenants', text);
const [aId, bId] = [env('A_ID'), env('B_ID')];

const context = await launch();
const consoleErrors = [];
async function open(url) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.setDefaultTimeout(30000);
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}
const shot = (page, name) => page.screenshot({ path: join(shots, `tenants-${name}.png`), fullPage: true });

// Shows `id`'s card on the approvals page, as an MCP client's approval link does.
async function showApproval(page, id) {
  await page.evaluate((wanted) => { window.location.hash = `#/approvals/${wanted}`; }, id);
  await page.waitForSelector(`article.approval.focused[data-approval="${id}"]`);
}

let pageA;
let pageB;
try {
  step("open tenant a's link: its page at /t/a/, signed in, the token gone");
  pageA = await open(env('UI_URL'));
  assert(new URL(pageA.url()).pathname === '/t/a/', `a's page is at ${pageA.url()}`);
  assert(!pageA.url().includes('token='), 'the token stays in the address bar');
  const who = await pageA.textContent('#who');
  assert(who.includes('tenant a'), `the page does not say its tenant: ${who}`);

  step("a's approvals page lists a's approval, never b's");
  await showApproval(pageA, aId);
  await pageA.click('#approvals-all');
  await pageA.waitForSelector(`article.approval[data-approval="${aId}"]`);
  assert(!(await pageA.content()).includes(bId), "a's page shows b's approval");
  await shot(pageA, '01-a-approvals');

  step("open tenant b's link in the same browser: b's page, b's approval only");
  pageB = await open(env('UI_URL_B'));
  assert(new URL(pageB.url()).pathname === '/t/b/', `b's page is at ${pageB.url()}`);
  await showApproval(pageB, bId);
  assert(!(await pageB.content()).includes(aId), "b's page shows a's approval");

  step("each tenant's cookie is its own, under its own path");
  const cookies = await context.cookies();
  const names = cookies.map((c) => `${c.name}@${c.path}`).sort();
  assert(JSON.stringify(names) === JSON.stringify(['toolhost_session_a@/t/a/', 'toolhost_session_b@/t/b/']),
    `cookies: ${names.join(', ')}`);

  step("approve b's call in b's page");
  const card = pageB.locator(`article.approval.pending[data-approval="${bId}"]`);
  await card.waitFor();
  await card.locator('button.approve').click();
  await card.locator('.run-result').waitFor();
  const result = await card.locator('.run-result').textContent();
  assert(result.includes('taskId'), `result: ${result}`);
  await shot(pageB, '02-b-approved');

  step("a's page, reloaded, is still signed in and a's approval still pending");
  await pageA.reload();
  await pageA.waitForSelector('body[data-ready="true"]');
  await showApproval(pageA, aId);
  await pageA.waitForSelector(`article.approval.pending[data-approval="${aId}"]`);
  await shot(pageA, '03-a-still-pending');

  assert(consoleErrors.every((e) => /40[139]|Failed to load resource/.test(e)), `console errors: ${consoleErrors.join('\n')}`);
  step('all steps passed');
} catch (err) {
  for (const [page, name] of [[pageA, 'failure-a'], [pageB, 'failure-b']]) {
    if (page) await shot(page, name).catch(() => {});
  }
  console.error(`ui-tenants FAILED: ${err.stack || err}`);
  if (consoleErrors.length) console.error(`browser console:\n${consoleErrors.join('\n')}`);
  process.exitCode = 1;
} finally {
  await context.close();
  removeProfiles();
}
