// The Approvals page: what the agent wants to run, with its exact arguments; approve runs
// it once (the CLI's path) and shows the result when it completes; deny stops it for good.

import { get, post } from './api.js';
import { byId, el, formatAge, formatTime, message, pretty } from './dom.js';
import { loadPasskeys, passkeyState, passkeysAvailable, setupPasskeys, signApproval } from './passkeys.js';

function badge(count) {
  const node = byId('approvals-badge');
  node.textContent = String(count);
  node.hidden = count === 0;
}

async function decide(approval, action, item) {
  const buttons = item.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  const status = item.querySelector('.result');
  status.replaceChildren(el('span', { class: 'muted', text: action === 'approve' ? 'Running…' : 'Denying…' }));
  try {
    // With a passkey enrolled (or required) an approval is signed: the server checks the
    // assertion against this approval's challenge before anything runs.
    const keys = passkeyState();
    const signing = action === 'approve' && (keys.passkeys.length > 0 || keys.required) && passkeysAvailable();
    if (signing) status.replaceChildren(el('span', { class: 'muted', text: 'Sign with your passkey…' }));
    const body = signing ? { passkey: await signApproval(approval.id) } : undefined;
    if (signing) status.replaceChildren(el('span', { class: 'muted', text: 'Running…' }));
    const result = await post(`api/approvals/${encodeURIComponent(approval.id)}/${action}`, body);
    if (action === 'approve') {
      const report = result.report;
      status.replaceChildren(
        el('div', { class: 'ok', text: `Approved and ran ${report.tool} (${report.upstream.length} upstream requests).` }),
        el('pre', { class: 'json run-result', text: pretty(report.result) }));
    } else {
      status.replaceChildren(el('div', { class: 'denied', text: 'Denied: it will not run.' }));
    }
    item.classList.add('decided');
    const pill = item.querySelector('.card-head .pill');
    pill.className = `pill ${action === 'approve' ? 'executed' : 'denied'}`;
    pill.textContent = action === 'approve' ? 'executed' : 'denied';
  } catch (err) {
    status.replaceChildren(el('div', { class: 'error', text: err.message }));
    buttons.forEach((b) => { b.disabled = false; });
  }
  refreshBadge();
}

// What the call will do, as the plugin previewed it: summary and facts as text only.
function renderPreview(preview) {
  if (!preview || typeof preview !== 'object') return null;
  const facts = Array.isArray(preview.facts) ? preview.facts : [];
  return el('section', { class: 'preview' },
    typeof preview.summary === 'string' ? el('p', { class: 'preview-summary', text: preview.summary }) : null,
    facts.length ? el('dl', { class: 'facts preview-facts' },
      facts.map((f) => el('div', { class: 'field' },
        el('dt', { text: String(f && f.label !== undefined ? f.label : '') }),
        el('dd', { text: String(f && f.value !== undefined ? f.value : '') })))) : null);
}

function renderApproval(a) {
  const pending = a.status === 'pending';
  const item = el('article', { class: `card approval ${a.status}`, 'data-approval': a.id },
    el('div', { class: 'card-head' },
      el('h3', { class: 'tool-name', text: a.tool }),
      el('span', { class: `pill ${a.status}`, text: a.status })),
    el('dl', { class: 'facts' },
      el('div', { class: 'field' }, el('dt', { text: 'Requested by' }), el('dd', { text: a.requester })),
      el('div', { class: 'field' }, el('dt', { text: 'Role' }), el('dd', { text: a.role })),
      el('div', { class: 'field' }, el('dt', { text: 'Age' }),
        el('dd', { text: formatAge(a.ageSeconds), title: formatTime(a.createdAt) })),
      el('div', { class: 'field' }, el('dt', { text: 'Expires' }), el('dd', { text: formatTime(a.expiresAt) })),
      el('div', { class: 'field' }, el('dt', { text: 'Id' }), el('dd', { class: 'mono', text: a.id })),
      a.passkey ? el('div', { class: 'field' }, el('dt', { text: 'Signed with passkey by' }),
        el('dd', { class: 'passkey-signed', text: a.passkey.approver })) : null),
    renderPreview(a.preview),
    el('div', { class: 'muted small', text: 'Exact arguments (these, and only these, run):' }),
    el('pre', { class: 'json arguments', text: pretty(a.arguments) }),
    el('div', { class: 'result' }));
  if (pending) {
    item.append(el('div', { class: 'actions' },
      el('button', { class: 'primary approve', type: 'button', onclick: () => decide(a, 'approve', item) }, 'Approve and run'),
      el('button', { class: 'danger deny', type: 'button', onclick: () => decide(a, 'deny', item) }, 'Deny')));
  }
  return item;
}

export async function refreshBadge() {
  try {
    const data = await get('api/approvals');
    badge(data.approvals.length);
  } catch {
    // The badge is a hint; the page shows errors.
  }
}

// `focus`: the id of an approval to bring into view (the page was opened from its link).
export async function loadApprovals(focus) {
  const all = byId('approvals-all').checked;
  await loadPasskeys();
  try {
    const data = await get('api/approvals', all ? { all: 'true' } : {});
    const list = byId('approvals-list');
    list.replaceChildren(...data.approvals.map(renderApproval));
    if (!data.approvals.length) {
      list.append(el('p', { class: 'empty', text: all ? 'No approvals yet.' : 'Nothing waits for approval.' }));
    }
    if (!all) badge(data.approvals.length);
    message(byId('approvals-error'), '');
    const wanted = typeof focus === 'string'
      ? [...list.querySelectorAll('[data-approval]')].find((card) => card.dataset.approval === focus)
      : null;
    if (wanted) {
      wanted.classList.add('focused');
      wanted.scrollIntoView({ block: 'center' });
    } else if (typeof focus === 'string') {
      message(byId('approvals-error'), `Approval ${focus} is no longer pending: tick "all" to see what became of it.`);
    }
  } catch (err) {
    message(byId('approvals-error'), err.message);
  }
}

export function setupApprovals() {
  setupPasskeys();
  document.addEventListener('passkeys-changed', loadApprovals);
  byId('approvals-all').addEventListener('change', loadApprovals);
  byId('approvals-reload').addEventListener('click', loadApprovals);
}
