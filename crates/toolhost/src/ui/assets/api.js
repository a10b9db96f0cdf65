// Talking to the toolhost UI server: the session, JSON requests and the CSRF header.

let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed (${status})`);
    this.status = status;
    this.kind = body && body.kind;
  }
}

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('application/json') ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// Trades the one-time token in the URL for a session cookie (once), then removes the
// token from the address bar. After a reload the cookie alone is enough.
export async function startSession() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token) {
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    const response = await fetch('api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-toolhost-csrf': 'launch' },
      body: JSON.stringify({ token }),
    });
    if (response.ok) {
      const session = await response.json();
      csrf = session.csrf;
      return session;
    }
  }
  const session = await parse(await fetch('api/session'));
  csrf = session.csrf;
  return session;
}

export async function get(path, params) {
  const query = params ? `?${new URLSearchParams(clean(params))}` : '';
  return parse(await fetch(path + query));
}

export async function post(path, body) {
  return parse(await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-toolhost-csrf': csrf || '' },
    body: JSON.stringify(body || {}),
  }));
}

// Drops empty values so they do not reach the query string.
export function clean(params) {
  const out = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') out[key] = value;
  }
  return out;
}
