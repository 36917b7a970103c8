// What the user does to a todo (add, toggle, delete) and how a failure reaches them.

import { ApiError, SignedOut, Unreachable, request } from "./api.js";
import { apiBase } from "./settings.js";
import { forget, matchesFilter, place, remember, state, toggling } from "./todos.js";
import {
  announce,
  clearNotice,
  hideBanner,
  quoted,
  render,
  rowOf,
  showBanner,
  showNotice,
  ui,
} from "./view.js";

// One place decides how a failure reaches the user: the banner when the API is down or
// failing (and the page cannot work), a notice with the API's message for a 4xx.
export function report(error, doing) {
  if (error instanceof SignedOut) {
    return; // the sign-in form says why
  } else if (error instanceof Unreachable) {
    const where = apiBase || window.location.origin;
    showBanner(`Can't reach the todo API at ${where} while ${doing}. Check that it is running, then retry.`);
  } else if (error instanceof ApiError && error.status >= 500) {
    showBanner(`The todo API failed while ${doing}: ${error.message}`);
  } else if (error instanceof ApiError) {
    showNotice(`Could not finish ${doing}: ${error.message}`);
  } else {
    showNotice(`Something went wrong while ${doing}: ${error}`);
    console.error(error);
  }
}

export const succeeded = hideBanner;

// A 404 means someone else deleted the todo: say so and stop showing it.
export function failedOn(id, error, doing) {
  if (error instanceof ApiError && error.status === 404) {
    forget(id);
    showNotice("That todo no longer exists; it was deleted somewhere else.");
  } else {
    report(error, doing);
  }
}

// The todo as the API has it now (and its ETag), or null if it could not be fetched.
export async function refresh(id) {
  try {
    const { data, etag } = await request("GET", `/todos/${id}`);
    remember(data, etag);
    if (state.todos.has(id)) place(data);
    render();
    return data;
  } catch (error) {
    failedOn(id, error, "fetching the todo");
    render();
    return null;
  }
}

export async function add(event) {
  event.preventDefault();
  clearNotice();
  const text = ui.input.value.trim();
  if (!text) {
    showNotice("Type what needs doing first.");
    ui.input.focus();
    return;
  }
  ui.add.disabled = true;
  try {
    const { data, etag } = await request("POST", "/todos", { body: { text } });
    remember(data, etag);
    place(data);
    ui.input.value = "";
    succeeded();
    announce(
      matchesFilter(data)
        ? `Added ${quoted(data.text)}.`
        : `Added ${quoted(data.text)}; it shows under All and Active.`,
    );
    render();
  } catch (error) {
    report(error, "adding the todo");
  } finally {
    ui.add.disabled = false;
    ui.input.focus();
  }
}

// Not disabled while in flight (that would drop keyboard focus): a second change before the
// answer is put back instead, so two flips never race each other.
export async function toggle(id) {
  const li = rowOf(id);
  if (!li || toggling.has(id)) {
    render();
    return;
  }
  toggling.add(id);
  li.classList.add("busy");
  clearNotice();
  try {
    const { data, etag } = await request("POST", `/todos/${id}/toggle`);
    remember(data, etag);
    place(data);
    succeeded();
    announce(`${quoted(data.text)} marked ${data.completed ? "done" : "not done"}.`);
  } catch (error) {
    failedOn(id, error, "changing the todo");
  } finally {
    toggling.delete(id);
    li.classList.remove("busy");
    render(); // also puts the checkbox back if the toggle failed
  }
}

export async function remove(id) {
  const todo = state.todos.get(id);
  clearNotice();
  try {
    await request("DELETE", `/todos/${id}`);
    forget(id);
    succeeded();
    announce(`Deleted ${quoted(todo ? todo.text : "the todo")}.`);
  } catch (error) {
    failedOn(id, error, "deleting the todo");
  }
  render();
}
