// Passkey approvals in headless Chromium with a CDP virtual authenticator (CTAP2, internal,
// resident keys, user verification): the approver enrols a passkey, approves approval A by
// signing its challenge (it runs once), and then every way around the passkey is refused:
// the captured assertion replayed on A, presented for B, and B approved with no assertion.
// B stays pending through all of it, and is finally approved with its own signature. On the
// way, a preview in the approval JSON is shown on its card as text.
//
// Environment (tests/all/passkeys.rs sets it): UI_URL, CHROMIUM, PLAYWRIGHT_CORE,
// SCREENSHOT_DIR, APPROVER, APPROVAL_A, APPROVAL_B.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, env, launch, removeProfiles, step as say } from './browser.mjs';

const step = (text) => say('passkeys-e2e', text);
const shots = env('SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });
const [idA, idB] = [env('APPROVAL_A'), env('APPROVAL_B')];

const context = await launch();
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(30000);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

// Every approve request the page sends, as sent: the body carries the assertion.
const approves = [];
page.on('request', (r) => {
  if (r.method() === 'POST' && r.url().endsWith('/approve')) {
    approves.push({ url: new URL(r.url()).pathname, body: r.postData(), csrf: r.headers()['x-toolhost-csrf'] });
  }
});

// A POST from inside the page (same origin, the session cookie), with the page's CSRF token.
const send = (path, body, csrf) => page.evaluate(async ({ path, body, csrf }) => {
  const init = { method: 'POST', headers: { 'x-toolhost-csrf': csrf } };
  if (body !== null) {
    init.headers['content-type'] = 'application/json';
    init.body = body;
  }
  const response = await fetch(path, init);
  return { status: response.status, body: await response.json() };
}, { path, body, csrf });
const approvals = (all) => page.evaluate((all) => fetch(`/api/approvals${all ? '?all=true' : ''}`)
  .then((r) => r.json()), all);
const card = (id) => page.locator(`article.approval[data-approval="${id}"]`);

try {
  step('sign in from the link that names the approver');
  assert(new URL(env('UI_URL')).hostname === 'localhost', 'passkeys need the localhost origin');
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

  step('the approvals page says passkeys are required and none is enrolled');
  await page.click('[data-tab="approvals"]');
  await page.waitForSelector('#passkey-required:not([hidden])');
  await page.waitForSelector('#passkey-status[data-enrolled="0"]');
  await card(idA).waitFor();
  await card(idB).waitFor();

  step("a call's preview shows as text on its card, never as markup");
  const summary = 'Clean <img src=x id=injected> C: on 1 device';
  const listing = (url) => url.pathname === '/api/approvals';
  await page.route(listing, async (route) => {
    const response = await route.fetch();
    const data = await response.json();
    for (const x of data.approvals) {
      if (x.id === idB) x.preview = { summary, facts: [{ label: 'Drive', value: '<b>C:</b>' }, { label: 'Devices', value: 1 }] };
      // A record without a preview (one held before previews existed) shows nothing extra.
      if (x.id === idA) delete x.preview;
    }
    await route.fulfill({ response, json: data });
  });
  step("the host's own preview of each held call is on its card");
  const realSummaries = await page.locator('.preview-summary').allTextContents();
  assert(realSummaries.length >= 2 && realSummaries.every((t) => t.startsWith('Run ')), `previews: ${realSummaries}`);
  await page.click('#approvals-reload');
  await page.waitForFunction(([id, text]) => {
    const node = document.querySelector(`[data-approval="${id}"] .preview-summary`);
    return node && node.textContent === text;
  }, [idB, summary]);
  assert(await card(idB).locator('.preview-summary').textContent() === summary, 'summary as text');
  const facts = await card(idB).locator('.preview-facts dd').allTextContents();
  assert(facts.join('|') === '<b>C:</b>|1', `facts: ${facts}`);
  assert(await page.locator('#injected, .preview b').count() === 0, 'preview text became markup');
  assert(await card(idA).locator('.preview').count() === 0, 'no preview: nothing extra');
  await shot('p0-preview');
  await page.unroute(listing);
  await page.click('#approvals-reload');
  await card(idB).locator('button.approve').waitFor();

  step('approving before enrolling is refused with the fix');
  await card(idB).locator('button.approve').click();
  await card(idB).locator('.result .error').waitFor();
  const early = await card(idB).locator('.result .error').textContent();
  assert(/no passkey is enrolled/.test(early), `before enrolling: ${early}`);

  step('enrol a passkey (user verification required)');
  await page.click('#passkey-enrol');
  await page.waitForSelector('#passkey-status[data-enrolled="1"]');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert(credentials.length === 1 && credentials[0].rpId === 'localhost', `authenticator holds ${JSON.stringify(credentials)}`);
  await page.waitForFunction((id) => !document.querySelector(`article[data-approval="${id}"] .result .error`), idB);
  await shot('p1-enrolled');

  step('approve A with the passkey: it runs once');
  await card(idA).locator('button.approve').click();
  await card(idA).locator('.run-result').waitFor();
  const result = await card(idA).locator('.run-result').textContent();
  assert(result.includes('taskId'), `result: ${result}`);
  await shot('p2-approved-with-passkey');
  const signed = approves.find((a) => a.url === `/api/approvals/${idA}/approve`);
  assert(signed && JSON.parse(signed.body).passkey, 'the approve request carried an assertion');
  const { csrf } = signed;

  step('the record keeps the assertion, and its challenge is bound to the approval digest');
  const everything = (await approvals(true)).approvals;
  const a = everything.find((x) => x.id === idA);
  assert(a.state === 'executed' && a.passkey, `A: ${JSON.stringify(a)}`);
  assert(a.passkey.approver === env('APPROVER') && a.passkey.userVerified === true, 'evidence names the approver, verified');
  assert(a.by === `ui:${env('APPROVER')}`, `approved by ${a.by}`);
  const clientData = JSON.parse(Buffer.from(a.passkey.clientDataJson, 'base64url').toString());
  const challenge = createHash('sha256').update('toolhost-passkey-approval-v1')
    .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, a.passkey.approvalDigest.length]))
    .update(a.passkey.approvalDigest).update(Buffer.from(a.passkey.challengeNonce, 'base64url'))
    .digest('base64url');
  assert(clientData.challenge === challenge && clientData.type === 'webauthn.get', `client data: ${JSON.stringify(clientData)}`);
  assert(clientData.origin === new URL(env('UI_URL')).origin, `origin ${clientData.origin}`);

  step('replaying the captured assertion on A is refused');
  const replayA = await send(`/api/approvals/${idA}/approve`, signed.body, csrf);
  assert(replayA.status === 403 && /already used|never asked/.test(replayA.body.error), `replay on A: ${JSON.stringify(replayA)}`);

  step("presenting A's assertion for B (with B's challenge open) is refused");
  const opened = await send(`/api/approvals/${idB}/passkey-challenge`, null, csrf);
  assert(opened.status === 200 && opened.body.publicKey.challenge, `B's challenge: ${JSON.stringify(opened)}`);
  const forB = await send(`/api/approvals/${idB}/approve`, signed.body, csrf);
  assert(forB.status === 403 && /another approval/.test(forB.body.error), `A's assertion for B: ${JSON.stringify(forB)}`);

  step('approving B with no assertion is refused, with or without a body');
  for (const body of ['{}', null]) {
    const bare = await send(`/api/approvals/${idB}/approve`, body, csrf);
    assert(bare.status === 403 && bare.body.kind === 'passkey-required' && /passkey/.test(bare.body.error),
      `no assertion: ${JSON.stringify(bare)}`);
  }
  const pending = (await approvals(false)).approvals.map((x) => x.id);
  assert(pending.length === 1 && pending[0] === idB, `still pending: ${pending}`);

  step('B, signed with its own challenge, runs');
  await page.click('#approvals-reload');
  await card(idB).locator('button.approve').click();
  await card(idB).locator('.run-result').waitFor();
  await shot('p3-second-approval');
  const { credentials: after } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert(after[0].signCount >= 2, `sign count ${after[0].signCount}`);
  step('all steps passed');
} catch (err) {
  await shot('passkeys-failure').catch(() => {});
  console.error(`passkeys-e2e FAILED: ${err.stack || err}`);
  process.exitCode = 1;
} finally {
  await context.close();
  removeProfiles();
}
