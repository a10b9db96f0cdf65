// Two `toolhost serve` replicas on one database, one browser: signed in at replica A with the
// link replica B printed, the approver enrols a passkey at A; then at B (no new link: the
// session cookie made at A is known there) the passkey enrolled through A is offered, and the
// held call is approved by signing B's challenge, which B verifies. A CDP virtual
// authenticator (CTAP2, internal, resident keys, user verification) holds the passkey.
//
// Environment (tests/all/ui_replicas.rs sets it): UI_URL (A's origin with B's launch token),
// OTHER_ORIGIN (B's origin), CHROMIUM, PLAYWRIGHT_CORE, SCREENSHOT_DIR, APPROVER, APPROVAL.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, env, launch, removeProfiles, step as say } from './browser.mjs';

const step = (text) => say('ui-replicas', text);
const shots = env('SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });
const approval = env('APPROVAL');
const originA = new URL(env('UI_URL')).origin;
const originB = env('OTHER_ORIGIN');

const context = await launch();
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(30000);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const card = (id) => page.locator(`article.approval[data-approval="${id}"]`);

// Where each passkey request went, so the test knows which replica did what.
const ceremony = [];
page.on('request', (r) => {
  const url = new URL(r.url());
  if (r.method() === 'POST' && /passkey|approve/.test(url.pathname)) {
    ceremony.push(`${url.origin}${url.pathname}`);
  }
});

try {
  step("sign in at replica A with the link replica B printed");
  assert(originA !== originB, 'two replicas, two origins');
  await page.goto(env('UI_URL'));
  await page.waitForSelector('body[data-ready="true"]');
  const who = await page.textContent('#who');
  assert(who.includes(env('APPROVER')), `signed in as: ${who}`);

  step('a virtual authenticator: CTAP2, internal, resident keys, verifies the user');
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  step('enrol a passkey at replica A');
  await page.click('[data-tab="approvals"]');
  await page.waitForSelector('#passkey-status[data-enrolled="0"]');
  await page.click('#passkey-enrol');
  await page.waitForSelector('#passkey-status[data-enrolled="1"]');
  await shot('r1-enrolled-at-a');

  step('at replica B the session made at A holds, and the passkey enrolled at A is offered');
  await page.goto(`${originB}/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert((await page.textContent('#who')).includes(env('APPROVER')), 'signed in at B');
  await page.click('[data-tab="approvals"]');
  await page.waitForSelector('#passkey-status[data-enrolled="1"]');
  await card(approval).waitFor();

  step("approve at replica B by signing B's challenge: it runs");
  await card(approval).locator('button.approve').click();
  await card(approval).locator('.run-result').waitFor();
  await shot('r2-approved-at-b');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert(credentials.length === 1 && credentials[0].signCount >= 1, `authenticator: ${JSON.stringify(credentials)}`);

  step('the evidence was made for B');
  const all = await page.evaluate(() => fetch('/api/approvals?all=true').then((r) => r.json()));
  const record = all.approvals.find((x) => x.id === approval);
  assert(record && record.state === 'executed' && record.passkey, `record: ${JSON.stringify(record)}`);
  const clientData = JSON.parse(Buffer.from(record.passkey.clientDataJson, 'base64url').toString());
  assert(clientData.origin === originB, `signed for ${clientData.origin}`);
  const expected = [
    `${originA}/api/passkeys/register/start`, `${originA}/api/passkeys/register/finish`,
    `${originB}/api/approvals/${approval}/passkey-challenge`, `${originB}/api/approvals/${approval}/approve`,
  ];
  assert(JSON.stringify(ceremony) === JSON.stringify(expected), `requests: ${JSON.stringify(ceremony)}`);
  step('all steps passed');
} catch (err) {
  await shot('ui-replicas-failure').catch(() => {});
  console.error(`ui-replicas FAILED: ${err.stack || err}`);
  process.exitCode = 1;
} finally {
  await context.close();
  removeProfiles();
}
