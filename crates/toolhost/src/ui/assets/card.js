// The Integration page: the connection card and the connect form.

import { get, post } from './api.js';
import { byId, el, formatTime, message, show } from './dom.js';

let regionsFilled = false;

function row(label, value, id) {
  return el('div', { class: 'field' }, el('dt', { text: label }), el('dd', { id, text: value ?? '—' }));
}

export function renderCard(status) {
  const card = byId('integration-card');
  const connected = status.connected;
  card.replaceChildren(...[
    el('div', { class: 'card-head' },
      el('h2', { text: status.plugin.name }),
      el('span', { id: 'connection-state', class: `pill ${connected ? 'ok' : 'off'}`,
        text: connected ? 'Connected' : 'Not connected' })),
    el('dl', { class: 'facts' },
      row('Region', status.regionLabel ? `${status.regionLabel} (${status.region})` : status.region, 'card-region'),
      row('Client id', status.clientId, 'card-client-id'),
      row('Tools', status.toolCount === null ? null : String(status.toolCount), 'card-tool-count'),
      row('Static / script', status.toolCount === null ? null
        : `${status.staticTools} / ${status.toolCount - status.staticTools}`),
      row('Last catalog refresh', formatTime(status.lastRefresh), 'card-refreshed'),
      status.upstream ? row('Upstream', status.upstream) : null,
      row('Plugin', `${status.plugin.id} ${status.plugin.version}`)),
    status.toolsError ? el('p', { class: 'error', text: status.toolsError }) : null,
    status.grant ? grantSection(status.grant) : null,
    connected ? el('div', { class: 'actions' },
      el('button', { id: 'refresh-tools', type: 'button', onclick: refresh }, 'Refresh the catalog')) : null,
  ].filter(Boolean));
  byId('connect-title').textContent = connected ? 'Reconnect' : 'Connect';
  if (!regionsFilled) fillForm(status);
}

// What the plugin was granted at connect, and any change since, with the accept button.
function grantSection(grant) {
  if (grant.error) return el('p', { id: 'grant-error', class: 'error', text: grant.error });
  const changes = grant.changes || [];
  return el('section', { id: 'grant', class: 'grant' },
    el('h3', { text: 'Granted to the plugin' }),
    el('dl', { class: 'facts' },
      row('API origin', grant.apiOrigin, 'grant-api'),
      row('Client secret goes only to', grant.tokenEndpoint || 'no credential', 'grant-token'),
      row('Extra origins', grant.extraOrigins.length ? grant.extraOrigins.join(', ') : 'none'),
      row('Tools', String(grant.tools))),
    ...(grant.warnings || []).map((w) => el('p', { class: 'muted', text: `Warning: ${w}` })),
    changes.length
      ? el('div', { id: 'grant-changes', class: 'error' },
        el('p', { text: 'Changed since it was granted (nothing changed runs until accepted):' }),
        el('ul', {}, ...changes.map((c) => el('li', { text: c }))),
        el('button', { id: 'grant-accept', type: 'button', onclick: acceptGrant }, 'Accept changes'))
      : el('p', { id: 'grant-ok', class: 'muted', text: 'The component and its tools match the grant.' }));
}

async function acceptGrant(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    renderCard(await post('api/grant/accept'));
  } catch (err) {
    message(byId('connect-error'), err.message);
    button.disabled = false;
  }
}

function fillForm(status) {
  regionsFilled = true;
  const select = byId('connect-region');
  select.replaceChildren(...status.regions.map((r) =>
    el('option', { value: r.id, text: `${r.label} (${r.id})` })));
  select.value = status.region || status.defaultRegion;
  if (status.clientId) byId('connect-client-id').value = status.clientId;
  const upstream = status.upstreamHint || status.upstream;
  if (upstream) {
    byId('connect-upstream').value = upstream;
    byId('connect-advanced').open = true;
  }
}

async function refresh(event) {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    await post('api/tools/refresh');
    renderCard(await get('api/status'));
  } catch (err) {
    message(byId('connect-error'), err.message);
  } finally {
    button.disabled = false;
  }
}

export async function loadCard() {
  const status = await get('api/status');
  renderCard(status);
  return status;
}

export function setupConnectForm(onConnected) {
  const form = byId('connect-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const secret = byId('connect-secret');
    const body = {
      region: byId('connect-region').value,
      clientId: byId('connect-client-id').value,
      clientSecret: secret.value,
      upstream: byId('connect-upstream').value,
      scopes: byId('connect-scopes').value,
    };
    message(byId('connect-error'), '');
    message(byId('connect-ok'), '');
    show(byId('connect-busy'), true);
    byId('connect-submit').disabled = true;
    try {
      const result = await post('api/connect', body);
      secret.value = '';
      message(byId('connect-ok'), result.message);
      renderCard(result.card);
      onConnected();
    } catch (err) {
      message(byId('connect-error'), err.message);
    } finally {
      show(byId('connect-busy'), false);
      byId('connect-submit').disabled = false;
    }
  });
}
