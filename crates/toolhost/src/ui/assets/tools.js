// The Tools page: every tool's effective mode and why; per-tool and per-pattern changes
// (the same policy file as `toolhost policy set`); search, filters, CSV.

import { clean, get, post } from './api.js';
import { byId, el, message } from './dom.js';

const MODES = ['auto', 'approval', 'never'];
let timer = null;

function filter() {
  return clean({
    q: byId('tools-search').value.trim(),
    mode: byId('tools-mode').value,
    kind: byId('tools-kind').value,
  });
}

async function setMode(pattern, mode, select) {
  if (select) select.disabled = true;
  try {
    const result = await post('api/policy', { pattern, mode });
    const was = result.previous ? ` (was ${result.previous})` : '';
    message(byId('tools-error'), '');
    byId('pattern-result').textContent = `${result.pattern}: ${result.mode}${was}, saved to ${result.file}`;
    await loadTools();
  } catch (err) {
    message(byId('tools-error'), err.message);
    if (select) select.disabled = false;
  }
}

function modeSelect(tool) {
  const select = el('select', { class: `mode mode-${tool.mode}`, 'aria-label': `Mode of ${tool.name}`,
    'data-tool': tool.name },
  ...MODES.map((m) => el('option', { value: m, selected: m === tool.mode, text: m })));
  select.addEventListener('change', () => setMode(tool.name, select.value, select));
  return select;
}

function renderRow(tool) {
  return el('tr', { 'data-tool': tool.name },
    el('td', {}, el('div', { class: 'tool-name', text: tool.name }),
      el('div', { class: 'muted small', text: tool.title })),
    el('td', {}, el('span', { class: `tag ${tool.kind}`, text: tool.kind })),
    el('td', {}, modeSelect(tool)),
    el('td', { class: 'why', text: tool.why }));
}

export async function loadTools() {
  const params = filter();
  byId('tools-csv').href = `api/tools.csv?${new URLSearchParams(params)}`;
  try {
    const data = await get('api/tools', params);
    byId('tools-table').tBodies[0].replaceChildren(...data.tools.map(renderRow));
    byId('tools-count').textContent = `${data.tools.length} of ${data.total} tools`;
    message(byId('tools-error'), '');
  } catch (err) {
    message(byId('tools-error'), err.message);
  }
}

export function setupTools() {
  byId('tools-search').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(loadTools, 200);
  });
  byId('tools-mode').addEventListener('change', loadTools);
  byId('tools-kind').addEventListener('change', loadTools);
  byId('pattern-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setMode(byId('pattern-input').value.trim(), byId('pattern-mode').value, null);
  });
}
