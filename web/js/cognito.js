// Cognito user pools' JSON API, called with fetch (no SDK, no build step): a POST to the
// pool's endpoint naming the action in X-Amz-Target. Only the actions a public app client may
// call unsigned from a browser: sign-up, its confirmation, sign-in, refresh and revocation.
// Nothing here touches the page.

import { userPool } from "./settings.js";

const REQUEST_TIMEOUT_MS = 10000;

// Cognito refused: `type` is its exception's name (UsernameExistsException, ...).
export class CognitoError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

export class CognitoUnreachable extends Error {}

async function call(action, body) {
  let response;
  try {
    response = await fetch(userPool.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new CognitoUnreachable(error && error.message ? error.message : String(error));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    // The body names the exception in __type, at times as "namespace#Name" or "Name:detail".
    const raw = data && typeof data.__type === "string" ? data.__type : "";
    const type = raw.split("#").pop().split(":")[0];
    const message = data && (data.message || data.Message);
    throw new CognitoError(
      type || `HTTP ${response.status}`,
      typeof message === "string" && message ? message : `Cognito answered ${response.status}`,
    );
  }
  return data || {};
}

// The username is the email: it works with a pool that signs in by email (UsernameAttributes)
// and with one that takes any username alike.
export function signUp(email, password) {
  return call("SignUp", {
    ClientId: userPool.clientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
}

export function confirmSignUp(email, code) {
  return call("ConfirmSignUp", {
    ClientId: userPool.clientId,
    Username: email,
    ConfirmationCode: code,
  });
}

// {AccessToken, IdToken, RefreshToken, ExpiresIn}; RefreshToken only on a password sign-in.
async function tokens(flow, parameters) {
  const answer = await call("InitiateAuth", {
    ClientId: userPool.clientId,
    AuthFlow: flow,
    AuthParameters: parameters,
  });
  if (!answer.AuthenticationResult) {
    // A challenge (a new password, MFA) the page cannot answer yet.
    const challenge = answer.ChallengeName || "an unknown challenge";
    throw new CognitoError("UnsupportedChallenge", `this account needs ${challenge}, which this page cannot do`);
  }
  return answer.AuthenticationResult;
}

export function passwordSignIn(email, password) {
  return tokens("USER_PASSWORD_AUTH", { USERNAME: email, PASSWORD: password });
}

export function refreshSignIn(refreshToken) {
  return tokens("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: refreshToken });
}

// Revokes the refresh token and the tokens issued from it (Cognito's RevokeToken).
export function revoke(refreshToken) {
  return call("RevokeToken", { ClientId: userPool.clientId, Token: refreshToken });
}

// The claims of a token Cognito just gave us, for display only (the API verifies tokens).
export function claimsOf(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}
