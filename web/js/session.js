// Who is signed in (TODO_AUTH=cognito): the tokens, their silent refresh, and the end of it.
//
// Where the tokens live, and why (docs/web-page.md): the access and ID tokens only in this
// module's memory, so no other script or tab can read them from storage; the refresh token in
// sessionStorage, so a reload keeps this tab signed in, while a new tab, or the browser after
// it is closed, signs in again. The page calls Cognito itself (no backend of ours sees the
// tokens), so an HttpOnly cookie is not an option; the CSP (scripts from 'self' only, none
// inline) and text-only rendering are what keep other scripts out of the page.
// Nothing here touches the page: it tells listeners when the session ends.

import { CognitoError, claimsOf, refreshSignIn, revoke } from "./cognito.js";

const REFRESH_TOKEN_KEY = "todo.refreshToken";
// Refresh this long before the access token expires, so a request never carries a token that
// expires on its way; and at most this often when Cognito cannot be reached.
const REFRESH_EARLY_MS = 60_000;
const REFRESH_RETRY_MS = 30_000;

const session = {
  access: null,
  claims: {}, // the ID token's claims: who is signed in, for display
  expiresAt: 0, // Date.now() milliseconds when the access token expires
  timer: null,
  refreshing: null, // the refresh in flight, shared by everyone who needs a token meanwhile
};
const endListeners = [];

export const signedIn = () => session.access !== null;
export const email = () => session.claims.email || session.claims["cognito:username"] || "";

// When the session ends (signed out, refused, expired): fn(reason), reason being "signed-out",
// "unauthorized" (the API said 401) or "expired" (Cognito refused the refresh token).
export function onEnd(fn) {
  endListeners.push(fn);
}

function storedRefreshToken() {
  try {
    return sessionStorage.getItem(REFRESH_TOKEN_KEY);
  } catch {
    return null; // storage disabled: the tab simply signs in again after a reload
  }
}

function storeRefreshToken(token) {
  try {
    if (token) sessionStorage.setItem(REFRESH_TOKEN_KEY, token);
    else sessionStorage.removeItem(REFRESH_TOKEN_KEY);
  } catch {
    // as above
  }
}

// A sign-in's or refresh's AuthenticationResult.
export function begin(result) {
  session.access = result.AccessToken;
  session.claims = claimsOf(result.IdToken);
  // ExpiresIn counted from now, not the token's exp: the browser's clock may be off.
  session.expiresAt = Date.now() + Number(result.ExpiresIn || 3600) * 1000;
  if (result.RefreshToken) storeRefreshToken(result.RefreshToken);
  schedule(session.expiresAt - REFRESH_EARLY_MS - Date.now());
}

function schedule(delayMs) {
  clearTimeout(session.timer);
  session.timer = setTimeout(() => refresh().catch(() => {}), Math.max(0, delayMs));
}

// A new access token from the refresh token. Cognito refusing it ends the session; Cognito
// being unreachable keeps the current token (still good for a while) and tries again later.
function refresh() {
  if (!session.refreshing) {
    const refreshToken = storedRefreshToken();
    session.refreshing = (async () => {
      if (!refreshToken) throw new CognitoError("NotAuthorizedException", "no refresh token");
      try {
        begin(await refreshSignIn(refreshToken));
      } catch (error) {
        if (error instanceof CognitoError) end("expired", { revoking: false });
        else schedule(REFRESH_RETRY_MS);
        throw error;
      }
    })().finally(() => {
      session.refreshing = null;
    });
  }
  return session.refreshing;
}

// After a reload: signed in again from the tab's refresh token, if it has a live one. A token
// Cognito refuses (revoked, expired) is dropped; either way the page then asks to sign in.
export async function resume() {
  const refreshToken = storedRefreshToken();
  if (!refreshToken) return false;
  try {
    begin(await refreshSignIn(refreshToken));
    return true;
  } catch (error) {
    if (error instanceof CognitoError) storeRefreshToken(null);
    return false;
  }
}

// The access token for the next API call, refreshed first if it is about to expire (timers
// sleep with the laptop, and background tabs run them late). null when nobody is signed in.
export async function accessToken() {
  if (session.access !== null && Date.now() >= session.expiresAt - REFRESH_EARLY_MS) {
    try {
      await refresh();
    } catch {
      // unreachable: send the current token and let the API judge it
    }
  }
  return session.access;
}

// Forget everything at once; revoke the refresh token behind it (when it was ours to end).
export function end(reason, { revoking = true } = {}) {
  const refreshToken = storedRefreshToken();
  const wasSignedIn = session.access !== null || refreshToken !== null;
  clearTimeout(session.timer);
  session.access = null;
  session.claims = {};
  session.expiresAt = 0;
  storeRefreshToken(null);
  if (revoking && refreshToken) {
    revoke(refreshToken).catch((error) => console.warn("could not revoke the refresh token", error));
  }
  if (wasSignedIn) for (const fn of endListeners) fn(reason);
}
