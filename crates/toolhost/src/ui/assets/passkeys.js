// Passkeys in the page: enrolling one for the signed-in approver, and signing one approval.
// The server's options carry binary fields as base64url; the browser's API wants
// ArrayBuffers, and its answers go back as base64url JSON (what webauthn-rs reads).

import { get, post } from './api.js';
import { byId, el, message } from './dom.js';

function fromB64url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
}

function toB64url(buffer) {
  let bin = '';
  for (const byte of new Uint8Array(buffer)) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

// The passkey state of the signed-in approver: { approver, required, passkeys: [...] }.
let current = { required: false, passkeys: [] };

export function passkeyState() {
  return current;
}

// WebAuthn needs a secure context on the relying party's own host name (`localhost`).
export function passkeysAvailable() {
  return Boolean(window.isSecureContext && window.PublicKeyCredential && navigator.credentials
    && window.location.hostname === current.rpId);
}

async function enrol() {
  const status = byId('passkey-status');
  message(byId('passkey-error'), '');
  status.textContent = 'Touch your authenticator…';
  try {
    const options = await post('api/passkeys/register/start');
    const pk = options.publicKey;
    const credential = await navigator.credentials.create({
      publicKey: {
        ...pk,
        challenge: fromB64url(pk.challenge),
        user: { ...pk.user, id: fromB64url(pk.user.id) },
        excludeCredentials: withIds(pk.excludeCredentials),
      },
    });
    const r = credential.response;
    await post('api/passkeys/register/finish', {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : [],
      },
      extensions: credential.getClientExtensionResults(),
    });
    // The approvals page redraws its cards (an earlier "enrol one first" goes away).
    document.dispatchEvent(new CustomEvent('passkeys-changed'));
  } catch (err) {
    message(byId('passkey-error'), err.message);
  }
  await loadPasskeys();
}

// Asks the server for this approval's challenge, has the authenticator sign it, and
// returns the assertion to send with the approve request.
export async function signApproval(id) {
  const options = await post(`api/approvals/${encodeURIComponent(id)}/passkey-challenge`);
  const pk = options.publicKey;
  const credential = await navigator.credentials.get({
    publicKey: { ...pk, challenge: fromB64url(pk.challenge), allowCredentials: withIds(pk.allowCredentials) },
  });
  const r = credential.response;
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: credential.getClientExtensionResults(),
  };
}

export async function loadPasskeys() {
  try {
    current = await get('api/passkeys');
  } catch (err) {
    message(byId('passkey-error'), err.message);
    return current;
  }
  const count = current.passkeys.length;
  byId('passkey-approver').textContent = current.approver;
  byId('passkey-required').hidden = !current.required;
  const status = byId('passkey-status');
  status.dataset.enrolled = String(count);
  status.textContent = count
    ? `${count} passkey${count === 1 ? '' : 's'} enrolled: approvals are signed with it.`
    : 'No passkey enrolled.';
  if (!passkeysAvailable()) {
    status.append(el('span', { class: 'muted', text: ` Passkeys need this page at http://${current.rpId}:${window.location.port}.` }));
  }
  byId('passkey-enrol').disabled = !passkeysAvailable();
  return current;
}

export function setupPasskeys() {
  byId('passkey-enrol').addEventListener('click', enrol);
}
