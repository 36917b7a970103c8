// What the generated config.js (a classic script that runs before any module) tells the page:
// the API's base URL ("" = this page's own origin), the server's text limit, and the Cognito
// user pool to sign in to (`auth`, null when the API needs no sign-in), so the page keeps no
// copy of any of them.

const config = window.TODO_CONFIG;

// {region, userPoolId, clientId, endpoint}, all non-empty strings; null = no sign-in.
function readAuth(auth) {
  if (auth === null || auth === undefined) return { valid: true, value: null };
  const fields = ["region", "userPoolId", "clientId", "endpoint"];
  const valid =
    typeof auth === "object" && fields.every((name) => typeof auth[name] === "string" && auth[name]);
  return { valid, value: valid ? auth : null };
}

const auth = config ? readAuth(config.auth) : { valid: false, value: null };

export const configured =
  Boolean(config) &&
  typeof config.apiBaseUrl === "string" &&
  Number.isInteger(config.maxTextChars) &&
  config.maxTextChars > 0 &&
  auth.valid;
export const apiBase = configured ? config.apiBaseUrl.replace(/\/+$/, "") : "";
export const maxTextChars = configured ? config.maxTextChars : 0;
// The user pool (TODO_AUTH=cognito), or null: then the page is the workshop's shared list.
export const userPool = configured ? auth.value : null;
