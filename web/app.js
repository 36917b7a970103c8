// The todo page's start-up (an ES module; config.js, a classic script, has run before it):
// wires the controls to the actions, loads the list a page at a time, keeps the filter in
// the URL. When config.js names a user pool, the list waits for sign-in and goes away again
// at sign-out.

import { showAccount, showEnded, showSignedIn, startAccount } from "./js/account.js";
import { add, remove, report, succeeded, toggle } from "./js/actions.js";
import { ApiError, firstPage, nextPage } from "./js/api.js";
import { cancelEdit, startEdit } from "./js/editing.js";
import { onEnd, resume } from "./js/session.js";
import { configured, maxTextChars, userPool } from "./js/settings.js";
import { FILTERS, forgetAll, overlaid, state } from "./js/todos.js";
import { clearNotice, hideBanner, render, showBanner, showNotice, ui } from "./js/view.js";

const PAGE_SIZE = 20;

async function loadPage(fresh) {
  if (fresh) {
    cancelEdit(false);
    forgetAll();
  } else if (state.loadingPage || state.next === null) {
    return;
  }
  const generation = state.generation;
  state.loadingPage = true;
  render();
  try {
    const page = fresh
      ? await firstPage(PAGE_SIZE, FILTERS[state.filter])
      : await nextPage(state.next);
    if (generation !== state.generation) return;
    for (const todo of overlaid(page.todos, { first: fresh, last: page.next === null })) {
      // A todo this page already shows may come again on a later page; keep the newer copy.
      const shown = state.todos.get(todo.id);
      if (!shown || shown.updatedAt <= todo.updatedAt) state.todos.set(todo.id, todo);
    }
    state.next = page.next;
    state.loaded = true;
    succeeded();
  } catch (error) {
    if (generation !== state.generation) return;
    if (!fresh && error instanceof ApiError && error.code === "invalid_cursor") {
      // Cursors are signed per API process: after a restart, start the list again.
      showNotice("The list changed on the server; it has been loaded again from the start.");
      state.loadingPage = false;
      loadPage(true);
      return;
    }
    report(error, fresh ? "loading your todos" : "loading more todos");
  } finally {
    if (generation === state.generation) {
      state.loadingPage = false;
      render();
    }
  }
}

function filterFromHash() {
  const name = window.location.hash.replace(/^#\/?/, "");
  return Object.hasOwn(FILTERS, name) ? name : "all";
}

function setFilter(name) {
  if (name === state.filter && state.loaded) return;
  state.filter = name;
  const hash = name === "all" ? "" : `#/${name}`;
  if (window.location.hash !== hash) {
    history.replaceState(null, "", `${window.location.pathname}${window.location.search}${hash}`);
  }
  clearNotice();
  loadPage(true);
}

// One listener per kind of event on the list, for every row present and future.
function rowId(event) {
  const li = event.target.closest("#list > li");
  return li ? Number(li.dataset.id) : null;
}

// The list for whoever is signed in now (or for everyone, without sign-in).
function showTodos() {
  ui.todos.hidden = false;
  state.filter = filterFromHash();
  loadPage(true);
}

// Signed out, refused or expired: nothing of that user's list stays in the page.
function signedOut(reason) {
  cancelEdit(false);
  forgetAll({ user: true });
  render();
  ui.form.reset(); // not even a half-typed todo stays for whoever signs in next
  ui.todos.hidden = true;
  clearNotice();
  hideBanner();
  showEnded(reason);
}

async function startSignIn() {
  startAccount(showTodos);
  onEnd(signedOut);
  if (await resume()) {
    showSignedIn();
    showTodos();
  } else {
    showAccount("sign-in");
  }
}

function start() {
  ui.form.addEventListener("submit", add);
  ui.list.addEventListener("change", (event) => {
    const id = rowId(event);
    if (id !== null && event.target.matches(".toggle")) toggle(id);
  });
  ui.list.addEventListener("click", (event) => {
    const id = rowId(event);
    if (id === null) return;
    if (event.target.closest(".edit")) startEdit(id);
    else if (event.target.closest(".delete")) remove(id);
  });
  ui.loadMore.addEventListener("click", () => loadPage(false));
  ui.retry.addEventListener("click", () => {
    hideBanner();
    loadPage(true);
  });
  for (const button of ui.filters) {
    button.addEventListener("click", () => setFilter(button.dataset.filter));
  }
  window.addEventListener("hashchange", () => setFilter(filterFromHash()));

  if (!configured) {
    showBanner("This page has no API configuration: config.js did not load. Reload to retry.");
    ui.retry.hidden = true;
    state.loaded = true;
    render();
    return;
  }
  ui.input.maxLength = maxTextChars;
  if (userPool) startSignIn();
  else showTodos();
}

start();
