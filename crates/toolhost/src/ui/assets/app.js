// The toolhost admin UI: starts the session, then shows one page at a time by URL hash.

import { startSession } from './api.js';
import { byId, el, message } from './dom.js';
import { loadCard, setupConnectForm } from './card.js';
import { loadTools, setupTools } from './tools.js';
import { loadApprovals, refreshBadge, setupApprovals } from './approvals.js';
import { loadActivity, setupActivity } from './activity.js';

const PAGES = {
  integration: loadCard,
  tools: loadTools,
  approvals: loadApprovals,
  activity: loadActivity,
};

// `#approvals` or, from an MCP client's approval link, `#/approvals/<id>`: the page, and the
// approval to bring into view.
export function parseHash(hash) {
  const [name, id] = hash.replace(/^#\/?/, '').split('/');
  return { name: PAGES[name] ? name : 'integration', id: id || null };
}

function currentPage() {
  return parseHash(window.location.hash).name;
}

async function showPage() {
  const name = currentPage();
  for (const page of Object.keys(PAGES)) {
    byId(`page-${page}`).hidden = page !== name;
  }
  document.querySelectorAll('[data-tab]').forEach((tab) => {
    tab.classList.toggle('active', tab.dataset.tab === name);
    if (tab.dataset.tab === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  });
  try {
    await PAGES[name](parseHash(window.location.hash).id);
  } catch (err) {
    message(byId('notice'), err.message);
  }
}

async function main() {
  let session;
  try {
    session = await startSession();
  } catch (err) {
    document.querySelector('main').replaceChildren(el('article', { class: 'card signin' },
      el('h2', { text: 'Not signed in' }),
      el('p', { text: err.message }),
      el('p', { class: 'muted', text: 'Open the URL that `toolhost ui` printed; each URL works once. Restart `toolhost ui` for a new one.' })));
    return;
  }
  // The tenant this page acts in, when it is not the default one (`/t/<tenant>/`).
  const tenant = session.tenant && session.tenant !== 'default' ? ` · tenant ${session.tenant}` : '';
  byId('who').textContent = `signed in as ${session.operator}${tenant}`;
  if (tenant) document.title = `toolhost · ${session.tenant}`;
  document.body.dataset.ready = 'true';
  setupConnectForm(() => refreshBadge());
  setupTools();
  setupApprovals();
  setupActivity();
  window.addEventListener('hashchange', showPage);
  await showPage();
  refreshBadge();
  setInterval(refreshBadge, 5000);
}

main();
