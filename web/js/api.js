// The API client: JSON requests with the API's JSON errors, If-Match for conditional writes,
// the signed-in user's access token, and the list a page at a time. Nothing here touches the
// page.

import { accessToken, end } from "./session.js";
import { apiBase, userPool } from "./settings.js";

const REQUEST_TIMEOUT_MS = 10000;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Unreachable extends Error {}

// The API refused the user's token (401): the session has ended and the page is back at
// sign-in, so there is nothing more to tell about the request.
export class SignedOut extends Error {}

async function send(method, url, { body, etag } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (etag) headers["If-Match"] = etag;
  if (userPool) {
    const token = await accessToken();
    if (token === null) throw new SignedOut("not signed in");
    headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new Unreachable(error && error.message ? error.message : String(error));
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null; // a proxy's HTML error page, say: the status still tells what happened
    }
  }
  if (response.status === 401 && userPool) {
    end("unauthorized");
    throw new SignedOut("the API refused the access token");
  }
  if (!response.ok) {
    const error = data && typeof data === "object" ? data.error : null;
    const message =
      error && typeof error.message === "string"
        ? error.message
        : `the API answered ${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, error && error.code, message);
  }
  return { data, etag: response.headers.get("ETag"), headers: response.headers };
}

// `path` is the API's own path, e.g. "/todos/7". Answers {data, etag}.
export function request(method, path, options) {
  return send(method, apiBase + path, options);
}

// The first page of the list: {todos, next}, where `next` is the absolute URL of the next page
// from the API's Link header (null on the last page).
export async function firstPage(pageSize, completed) {
  const query = new URLSearchParams({ limit: String(pageSize) });
  if (completed !== null) query.set("completed", completed);
  return page(apiBase + `/todos?${query}`);
}

export function nextPage(next) {
  return page(next);
}

// The API answers a bare array and pages with an RFC 8288 header,
// `Link: </todos?limit=..&cursor=..>; rel="next"`, absent on the last page. The target is a
// relative path, so it resolves against the API's base (this page's origin when that is "").
function nextLink(headers) {
  const link = headers.get("Link");
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /(^|;)\s*rel="?next"?\s*(;|$)/.test(match[2])) {
      return new URL(match[1], apiBase || location.origin).href;
    }
  }
  return null;
}

async function page(url) {
  const { data, headers } = await send("GET", url);
  if (!Array.isArray(data)) throw new ApiError(200, null, "the API's list was not a JSON array");
  return { todos: data, next: nextLink(headers) };
}
