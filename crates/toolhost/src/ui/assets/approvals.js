// The Approvals page: what the agent wants to run, with its exact arguments; approve runs
// it once (the CLI's path) and shows the result when it completes; deny stops it for good.

import { get, post } from './api.js';
import { byId, el, formatAge, formatTime, message, pretty } from './dom.js';

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
    const result = await post(`/api/approvals/${encodeURIComponent(approval.id)}/${action}`);
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
  }
  refreshBadge();
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
      el('div', { class: 'field' }, el('dt', { text: 'Id' }), el('dd', { class: 'mono', text: a.id }))),
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
    const data = await get('/api/approvals');
    badge(data.approvals.length);
  } catch {
    // The badge is a hint; the page shows errors.
  }
}

export async function loadApprovals() {
  const all = byId('approvals-all').checked;
  try {
    const data = await get('/api/approvals', all ? { all: 'true' } : {});
    const list = byId('approvals-list');
    list.replaceChildren(...data.approvals.map(renderApproval));
    if (!data.approvals.length) {
      list.append(el('p', { class: 'empty', text: all ? 'No approvals yet.' : 'Nothing waits for approval.' }));
    }
    if (!all) badge(data.approvals.length);
    message(byId('approvals-error'), '');
  } catch (err) {
    message(byId('approvals-error'), err.message);
  }
}

export function setupApprovals() {
  byId('approvals-all').addEventListener('change', loadApprovals);
  byId('approvals-reload').addEventListener('click', loadApprovals);
}
