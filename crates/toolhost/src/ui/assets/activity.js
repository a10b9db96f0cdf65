// The Activity page: recent tasks (the tasks-summary tool, called through the host like
// any other call) and the audit log, for the last 24 h, 48 h or a custom range.

import { get, post } from './api.js';
import { byId, chips, el, formatTime, message } from './dom.js';
import { barChart } from './chart.js';

let range = { hours: 24 };

function timeWindow() {
  if (range.hours) {
    const to = new Date();
    return { from: new Date(to.getTime() - range.hours * 3600 * 1000), to };
  }
  return { from: range.from, to: range.to };
}

function renderTask(t) {
  const devices = t.deviceCount === undefined ? '—'
    : `${t.deviceCount} (${t.successCount ?? 0} ok, ${t.failureCount ?? 0} failed)`;
  return el('tr', {},
    el('td', {}, el('div', { text: t.name || t.taskId }), el('div', { class: 'muted small mono', text: t.taskId })),
    el('td', {}, el('span', { class: `pill ${String(t.executionStatus || '').toLowerCase()}`, text: t.executionStatus || 'unknown' })),
    el('td', { text: devices }),
    el('td', { text: formatTime(t.createdOn) }));
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function renderRecord(r) {
  const approval = r.approvalId ? ` · approval ${r.approvalId.slice(0, 8)}` : '';
  const detail = r.error || r.rule || '';
  return el('tr', { class: 'audit-row', 'data-outcome': r.outcome, 'data-tool': r.tool },
    el('td', { class: 'nowrap', text: formatTime(r.time) }),
    el('td', {}, el('div', { class: 'tool-name', text: r.tool }),
      el('div', { class: 'muted small', title: detail, text: clip(detail, 90) + approval })),
    el('td', {}, el('div', { text: r.caller }), el('div', { class: 'muted small', text: r.role })),
    el('td', { text: r.decision }),
    el('td', {}, el('span', { class: `pill ${r.outcome}`, text: r.outcome })));
}

async function loadTasks(from, to) {
  try {
    const data = await post('api/tasks', { from: from.toISOString(), to: to.toISOString() });
    chips(byId('task-counts'), data.counts);
    barChart(byId('task-chart'), data.counts, 'Task outcomes');
    const body = byId('tasks-table').tBodies[0];
    body.replaceChildren(...data.tasks.map(renderTask));
    if (!data.tasks.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'empty', text: 'No tasks in this range.' })));
    message(byId('tasks-error'), '');
  } catch (err) {
    chips(byId('task-counts'), {});
    barChart(byId('task-chart'), {}, '');
    byId('tasks-table').tBodies[0].replaceChildren();
    message(byId('tasks-error'), err.message);
  }
}

async function loadAudit(from, to) {
  try {
    const data = await get('api/audit', { from: from.toISOString(), to: to.toISOString() });
    chips(byId('audit-counts'), data.counts);
    const body = byId('audit-table').tBodies[0];
    body.replaceChildren(...data.records.map(renderRecord));
    if (!data.records.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'empty', text: 'No calls in this range.' })));
    message(byId('audit-error'), '');
  } catch (err) {
    message(byId('audit-error'), err.message);
  }
}

export async function loadActivity() {
  const { from, to } = timeWindow();
  byId('range-label').textContent = `${from.toLocaleString()} – ${to.toLocaleString()}`;
  await Promise.all([loadAudit(from, to), loadTasks(from, to)]);
}

function localInput(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

export function setupActivity() {
  const buttons = document.querySelectorAll('[data-range]');
  buttons.forEach((button) => button.addEventListener('click', () => {
    buttons.forEach((b) => b.classList.toggle('active', b === button));
    const custom = button.dataset.range === 'custom';
    byId('custom-range').hidden = !custom;
    if (custom) {
      const { from, to } = timeWindow();
      byId('range-from').value = localInput(from);
      byId('range-to').value = localInput(to);
      return;
    }
    range = { hours: Number(button.dataset.range) };
    loadActivity();
  }));
  byId('range-apply').addEventListener('click', () => {
    const from = new Date(byId('range-from').value);
    const to = new Date(byId('range-to').value);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to) {
      message(byId('tasks-error'), 'Choose a valid range: "from" before "to".');
      return;
    }
    range = { from, to };
    loadActivity();
  });
}
