// What the generated config.js (a classic script that runs before any module) tells the page:
// the API's base URL ("" = this page's own origin) and the server's text limit, so the page
// keeps no copy of either.

const config = window.TODO_CONFIG;

export const configured =
  Boolean(config) &&
  typeof config.apiBaseUrl === "string" &&
  Number.isInteger(config.maxTextChars) &&
  config.maxTextChars > 0;
export const apiBase = configured ? config.apiBaseUrl.replace(/\/+$/, "") : "";
export const maxTextChars = configured ? config.maxTextChars : 0;
