// Drives `toolhost ui` in headless Chromium (playwright-core, the system's browser; no
// download): connect, change a script tool's policy, approve a pending call in the page,
// see its result and its audit record. Screenshots go to $SCREENSHOT_DIR.
//
// Environment (tests/ui.rs sets it): UI_URL, SIM_URL, CHROMIUM, PLAYWRIGHT_CORE,
// SCREENSHOT_DIR, CLIENT_ID, CLIENT_SECRET, EXPECTED_TOOL_COUNT, POLICY_TOOL,
// APPROVAL_TOOL, APPROVAL_ARGS, TOOLHOST_CMD (JSON array: binary and global flags).

import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assert, env, launch, removeProfiles, step as say } from './browser.mjs';

const shots = env('SCREENSHOT_DIR');
mkdirSync(shots, { recursive: true });
const [bin, ...globalFlags] = JSON.parse(env('TOOLHOST_CMD'));
const secret = env('CLIENT_SECRET');

function toolhost(args) {
  return spawnSync(bin, [...globalFlags, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
}

const step = (text) => say('ui-e2e', text);

const context = await launch();
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));
page.setDefaultTimeout(30000);
const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

try {
  step('open the printed URL: the one-time token becomes a session cookie');
  await page.goto(env('UI_URL'));
  await page.waitForSelector('body[data-ready="true"]');
  assert(!page.url().includes('token='), 'the token stays in the address bar');
  await page.waitForSelector('#connection-state');
  assert((await page.textContent('#connection-state')) === 'Not connected', 'starts not connected');
  assert(await page.inputValue('#connect-upstream') === env('SIM_URL'), 'upstream prefilled');
  await shot('01-not-connected');

  step('a wrong secret fails with the host error, without echoing the secret');
  await page.fill('#connect-client-id', env('CLIENT_ID'));
  await page.fill('#connect-secret', 'wrong-secret-for-the-test');
  await page.click('#connect-submit');
  await page.waitForSelector('#connect-error:not([hidden])');
  const wrong = await page.textContent('#connect-error');
  assert(/client id or secret/.test(wrong), `clear error: ${wrong}`);
  assert(!wrong.includes('wrong-secret-for-the-test'), 'the error echoes the secret');

  step('connect with the demo credentials');
  await page.fill('#connect-secret', secret);
  await page.click('#connect-submit');
  await page.waitForSelector('#connection-state.ok');
  assert((await page.textContent('#connection-state')) === 'Connected', 'card says Connected');
  const count = await page.textContent('#card-tool-count');
  assert(count === env('EXPECTED_TOOL_COUNT'), `tool count ${count}`);
  assert(await page.inputValue('#connect-secret') === '', 'the secret field is cleared');
  assert(!(await page.content()).includes(secret), 'the page renders the secret');
  // What the plugin was granted: where the secret goes, and no change since.
  await page.waitForSelector('#grant-ok');
  const tokenEndpoint = await page.textContent('#grant-token');
  assert(tokenEndpoint.endsWith('/v1/token'), `the secret goes to ${tokenEndpoint}`);
  await shot('02-connected');

  step('tools: filter to scripts, change one script tool to never');
  const policyTool = env('POLICY_TOOL');
  await page.click('[data-tab="tools"]');
  await page.waitForSelector('#tools-table tbody tr');
  await page.selectOption('#tools-kind', 'script');
  await page.waitForFunction(() => [...document.querySelectorAll('#tools-table tbody tr')]
    .every((r) => r.querySelector('.tag').textContent === 'script'));
  const select = page.locator(`select[data-tool="${policyTool}"]`);
  await select.selectOption('never');
  await page.waitForFunction((t) => document.querySelector('#pattern-result').textContent.startsWith(`${t}: never`), policyTool);
  await page.waitForSelector(`select[data-tool="${policyTool}"].mode-never`);
  await page.fill('#tools-search', 'spooler');
  await page.waitForFunction(() => document.querySelectorAll('#tools-table tbody tr').length === 1);
  await page.fill('#tools-search', '');
  await page.waitForFunction(() => document.querySelectorAll('#tools-table tbody tr').length > 1);
  await shot('03-tools-policy');
  const listed = JSON.parse(toolhost(['policy', 'list', '--json']).stdout);
  const row = listed.find((r) => r.tool === policyTool);
  assert(row && row.mode === 'never', `policy list --json shows ${JSON.stringify(row)}`);
  const csv = await page.evaluate(() => fetch('/api/tools.csv?kind=script').then((r) => r.text()));
  assert(csv.startsWith('tool,kind,mode,why') && csv.includes(`${policyTool},script,never`), `CSV: ${csv.slice(0, 300)}`);

  step('security: a POST without the CSRF header is refused');
  const forged = await page.evaluate(() => fetch('/api/policy', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pattern: '*', mode: 'auto' }),
  }).then((r) => r.status));
  assert(forged === 403, `forged POST answered ${forged}`);

  step('an agent-like caller asks for an approval-needed script run (non-TTY: pending)');
  const approvalTool = env('APPROVAL_TOOL');
  const call = toolhost(['call', approvalTool, '--args', env('APPROVAL_ARGS')]);
  assert(call.status === 2 && call.stderr.includes('needs approval'), `call: ${call.status} ${call.stderr}`);

  step('the approval link an MCP client is given opens that approval in the page');
  const approvalId = (call.stderr.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/) || [])[0];
  assert(approvalId, `no approval id in: ${call.stderr}`);
  await page.evaluate((id) => { window.location.hash = `#/approvals/${id}`; }, approvalId);
  await page.waitForSelector(`article.approval.focused[data-approval="${approvalId}"]`);
  assert(!(await page.isHidden('#page-approvals')), 'the approvals page is not shown for the link');

  step('approve it in the page and see the result');
  const card = page.locator('article.approval.pending', { hasText: approvalTool });
  await card.waitFor();
  const args = await card.locator('pre.arguments').textContent();
  assert(args.includes(JSON.parse(env('APPROVAL_ARGS')).targets[0]), `arguments shown: ${args}`);
  await page.waitForSelector('#approvals-badge:not([hidden])');
  await shot('04-approval-pending');
  await card.locator('button.approve').click();
  await card.locator('.run-result').waitFor();
  const result = await card.locator('.run-result').textContent();
  assert(result.includes('taskId'), `result: ${result}`);
  await shot('05-approved-result');

  step('activity: the approved run in the audit log and the task in recent tasks');
  await page.click('[data-tab="activity"]');
  await page.waitForSelector(`#audit-table tr[data-outcome="ok"][data-tool="${approvalTool}"]`);
  const record = await page.textContent(`#audit-table tr[data-outcome="ok"][data-tool="${approvalTool}"]`);
  assert(record.includes('approved'), `audit row: ${record}`);
  await page.waitForSelector('#tasks-table tbody tr td .mono');
  await page.waitForSelector('#task-chart svg');
  await page.click('[data-range="48"]');
  await page.waitForSelector('#tasks-table tbody tr td .mono');
  await shot('06-activity');

  step('the launch link works once: a second browser is not signed in');
  const other = await launch();
  const second = other.pages()[0] || await other.newPage();
  await second.goto(env('UI_URL'));
  await second.waitForSelector('.signin');
  await second.screenshot({ path: join(shots, '07-link-used-once.png') });
  await other.close();

  assert(consoleErrors.every((e) => /40[139]|Failed to load resource/.test(e)), `console errors: ${consoleErrors.join('\n')}`);
  step('all steps passed');
} catch (err) {
  await shot('failure').catch(() => {});
  console.error(`ui-e2e FAILED: ${err.stack || err}`);
  if (consoleErrors.length) console.error(`browser console:\n${consoleErrors.join('\n')}`);
  process.exitCode = 1;
} finally {
  await context.close();
  removeProfiles();
}
