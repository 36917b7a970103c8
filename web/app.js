// The todo page. It talks to the API named by config.js (window.TODO_CONFIG.apiBaseUrl,
// "" = this page's own origin) and puts user text into the page only as text (textContent,
// attribute values, input values), never as HTML.
"use strict";

(() => {
  const PAGE_SIZE = 20;
  const REQUEST_TIMEOUT_MS = 10000;
  const MAX_TEXT_CHARS = 1000;
  // The API's completed=true|false filter for each view; null = no filter.
  const FILTERS = { all: null, active: "false", completed: "true" };

  const config = window.TODO_CONFIG;
  const configured = Boolean(config) && typeof config.apiBaseUrl === "string";
  const apiBase = configured ? config.apiBaseUrl.replace(/\/+$/, "") : "";

  const $ = (id) => document.getElementById(id);
  const ui = {
    banner: $("banner"),
    bannerText: $("banner-text"),
    retry: $("retry"),
    form: $("new-todo"),
    input: $("new-text"),
    add: $("add"),
    notice: $("notice"),
    counts: $("counts"),
    loading: $("loading"),
    list: $("list"),
    empty: $("empty"),
    loadMore: $("load-more"),
    announce: $("announce"),
    filters: Array.from(document.querySelectorAll("[data-filter]")),
  };

  const state = {
    filter: "all",
    todos: new Map(), // id -> todo, the todos loaded for the current filter
    etags: new Map(), // id -> the ETag of the last response that carried one
    next: null, // cursor of the next page; null once the last page is in
    loaded: false, // the first page of the current filter has arrived
    loadingPage: false,
    generation: 0, // bumped by every fresh load: answers to older loads are dropped
    edit: null, // {id, original, ready} while a todo's text is being edited
  };
  const items = new Map(); // id -> <li>
  const toggling = new Set(); // ids with a toggle in flight

  // ---- talking to the API -------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  class Unreachable extends Error {}

  async function request(method, path, { body, etag } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (etag) headers["If-Match"] = etag;
    let response;
    try {
      response = await fetch(apiBase + path, {
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
    if (!response.ok) {
      const error = data && typeof data === "object" ? data.error : null;
      const message =
        error && typeof error.message === "string"
          ? error.message
          : `the API answered ${response.status} ${response.statusText}`.trim();
      throw new ApiError(response.status, error && error.code, message);
    }
    return { data, etag: response.headers.get("ETag"), link: response.headers.get("Link") };
  }

  // The cursor of the list's next page, from its RFC 8288 `Link: <...>; rel="next"`; null at the end.
  function nextCursor(link) {
    const match = /<([^>]*)>\s*;\s*rel="next"/.exec(link || "");
    return match ? new URL(match[1], location.href).searchParams.get("cursor") : null;
  }

  function remember(todo, etag) {
    if (etag) state.etags.set(todo.id, etag);
  }

  // ---- messages -------------------------------------------------------------------------

  function showBanner(text) {
    ui.bannerText.textContent = text;
    ui.banner.hidden = false;
  }

  function hideBanner() {
    ui.banner.hidden = true;
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = false;
  }

  function clearNotice() {
    ui.notice.hidden = true;
    ui.notice.textContent = "";
  }

  function announce(text) {
    ui.announce.textContent = text;
  }

  const quoted = (text) => `“${text.length > 60 ? text.slice(0, 57) + "…" : text}”`;

  // One place decides how a failure reaches the user: the banner when the API is down or
  // failing (and the page cannot work), a notice with the API's message for a 4xx.
  function report(error, doing) {
    if (error instanceof Unreachable) {
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

  function succeeded() {
    hideBanner();
  }

  // ---- rendering ------------------------------------------------------------------------

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  function matchesFilter(todo) {
    const wanted = FILTERS[state.filter];
    return wanted === null || String(todo.completed) === wanted;
  }

  // The API's scan order is arbitrary: show newest first, ties broken by id.
  function sortedTodos() {
    return Array.from(state.todos.values()).sort((a, b) => {
      if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
      return b.id - a.id;
    });
  }

  function buildItem(todo) {
    const li = document.createElement("li");
    li.className = "todo";
    li.dataset.id = String(todo.id);

    const checkbox = document.createElement("input");
    checkbox.type = "checkbox";
    checkbox.className = "toggle";
    checkbox.id = `todo-${todo.id}-done`;
    checkbox.addEventListener("change", () => toggle(todo.id));

    const body = document.createElement("div");
    body.className = "todo-body";
    const label = document.createElement("label");
    label.className = "todo-text";
    label.htmlFor = checkbox.id;
    const meta = document.createElement("time");
    meta.className = "todo-date";
    body.append(label, meta);

    const actions = document.createElement("div");
    actions.className = "todo-actions";
    const edit = document.createElement("button");
    edit.type = "button";
    edit.className = "button button-small edit";
    edit.textContent = "Edit";
    edit.addEventListener("click", () => startEdit(todo.id));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button-small button-danger delete";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => removeTodo(todo.id));
    actions.append(edit, remove);

    li.append(checkbox, body, actions);
    return li;
  }

  function updateItem(li, todo) {
    const checkbox = li.querySelector(".toggle");
    checkbox.checked = todo.completed;
    li.classList.toggle("done", todo.completed);
    li.querySelector(".todo-text").textContent = todo.text;
    const date = li.querySelector(".todo-date");
    const created = new Date(todo.createdAt);
    date.dateTime = todo.createdAt;
    date.textContent = Number.isNaN(created.getTime()) ? "" : dateFormat.format(created);
    li.querySelector(".edit").setAttribute("aria-label", `Edit ${quoted(todo.text)}`);
    li.querySelector(".delete").setAttribute("aria-label", `Delete ${quoted(todo.text)}`);
  }

  // Keeps each todo's <li> across renders and moves only what is out of place, so focus
  // and an open edit survive every update.
  function render() {
    const todos = sortedTodos();
    const wanted = new Set(todos.map((todo) => todo.id));
    for (const [id, li] of items) {
      if (!wanted.has(id)) {
        if (state.edit && state.edit.id === id) state.edit = null;
        keepFocusNear(li);
        li.remove();
        items.delete(id);
      }
    }
    todos.forEach((todo, index) => {
      let li = items.get(todo.id);
      if (!li) {
        li = buildItem(todo);
        items.set(todo.id, li);
      }
      updateItem(li, todo);
      if (ui.list.children[index] !== li) ui.list.insertBefore(li, ui.list.children[index] || null);
    });
    renderStatus(todos);
  }

  function keepFocusNear(li) {
    if (!li.contains(document.activeElement)) return;
    const neighbour = li.nextElementSibling || li.previousElementSibling;
    (neighbour ? neighbour.querySelector(".toggle") : ui.input).focus();
  }

  function renderStatus(todos) {
    const active = todos.filter((todo) => !todo.completed).length;
    const completed = todos.length - active;
    const more = state.next !== null;
    let counts;
    if (state.filter === "all") {
      counts = `${plural(todos.length, "todo")}: ${active} active, ${completed} completed`;
    } else if (state.filter === "active") {
      counts = `${active} active`;
    } else {
      counts = `${completed} completed`;
    }
    ui.counts.textContent = !state.loaded ? "" : more ? `Loaded ${counts}; more to load` : counts;

    ui.loading.hidden = !(state.loadingPage && !state.loaded);
    ui.list.setAttribute("aria-busy", String(state.loadingPage));
    ui.empty.hidden = !state.loaded || todos.length > 0 || more;
    ui.empty.textContent = {
      all: "Nothing to do. Add a todo above.",
      active: "No active todos.",
      completed: "No completed todos.",
    }[state.filter];
    ui.loadMore.hidden = !state.loaded || !more;
    ui.loadMore.disabled = state.loadingPage;
    ui.loadMore.textContent = state.loadingPage ? "Loading…" : "Load more";
    for (const button of ui.filters) {
      button.setAttribute("aria-pressed", String(button.dataset.filter === state.filter));
    }
  }

  function forget(id) {
    state.todos.delete(id);
    state.etags.delete(id);
    if (state.edit && state.edit.id === id) state.edit = null;
  }

  // A todo the API just returned: shown if it belongs in the current view, dropped if not.
  function place(todo) {
    if (matchesFilter(todo)) state.todos.set(todo.id, todo);
    else state.todos.delete(todo.id);
  }

  // ---- loading pages --------------------------------------------------------------------

  function pagePath(cursor) {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const completed = FILTERS[state.filter];
    if (completed !== null) query.set("completed", completed);
    if (cursor) query.set("cursor", cursor);
    return `/todos?${query}`;
  }

  async function loadPage(fresh) {
    if (fresh) {
      state.generation += 1;
      cancelEdit(false);
      state.todos.clear();
      state.next = null;
      state.loaded = false;
    } else if (state.loadingPage || state.next === null) {
      return;
    }
    const generation = state.generation;
    state.loadingPage = true;
    render();
    try {
      const { data, link } = await request("GET", pagePath(fresh ? null : state.next));
      if (generation !== state.generation) return;
      for (const todo of data) {
        // A todo this page already shows may come again on a later page; keep the newer copy.
        const shown = state.todos.get(todo.id);
        if (!shown || shown.updatedAt <= todo.updatedAt) state.todos.set(todo.id, todo);
      }
      state.next = nextCursor(link);
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

  // ---- actions ------------------------------------------------------------------------

  async function add(event) {
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
  async function toggle(id) {
    const li = items.get(id);
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

  async function removeTodo(id) {
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

  // A 404 means someone else deleted the todo: say so and stop showing it.
  function failedOn(id, error, doing) {
    if (error instanceof ApiError && error.status === 404) {
      forget(id);
      showNotice("That todo no longer exists; it was deleted somewhere else.");
    } else {
      report(error, doing);
    }
  }

  // ---- inline editing -------------------------------------------------------------------

  function startEdit(id) {
    const todo = state.todos.get(id);
    const li = items.get(id);
    if (!todo || !li) return;
    cancelEdit(false);
    clearNotice();

    const form = document.createElement("form");
    form.className = "edit-form";
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `todo-${id}-edit`;
    label.textContent = "Todo text";
    const input = document.createElement("input");
    input.type = "text";
    input.id = `todo-${id}-edit`;
    input.className = "edit-input";
    input.maxLength = MAX_TEXT_CHARS;
    input.autocomplete = "off";
    input.value = todo.text;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "button button-small button-primary save";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button button-small cancel";
    cancel.textContent = "Cancel";
    form.append(label, input, save, cancel);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveEdit();
    });
    cancel.addEventListener("click", () => cancelEdit(true));
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancelEdit(true);
      }
    });

    li.classList.add("editing");
    li.querySelector(".todo-body").append(form);
    input.focus();
    input.select();
    // The list carries no ETags: fetch the todo's current version (and text) so the save
    // can be conditional, and a change made elsewhere meanwhile is a 412, not a lost update.
    const edit = { id, original: todo.text, ready: null };
    edit.ready = refresh(id).then((latest) => {
      if (latest && state.edit === edit && input.value === edit.original) {
        input.value = latest.text;
        edit.original = latest.text;
      }
    });
    state.edit = edit;
  }

  // The todo as the API has it now (and its ETag), or null if it could not be fetched.
  async function refresh(id) {
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

  function cancelEdit(restoreFocus) {
    const edit = state.edit;
    if (!edit) return;
    state.edit = null;
    const li = items.get(edit.id);
    if (!li) return;
    li.classList.remove("editing");
    const form = li.querySelector(".edit-form");
    if (form) form.remove();
    if (restoreFocus) li.querySelector(".edit").focus();
  }

  async function saveEdit() {
    const edit = state.edit;
    const li = edit && items.get(edit.id);
    if (!li) return;
    const input = li.querySelector(".edit-input");
    const save = li.querySelector(".save");
    const text = input.value.trim();
    clearNotice();
    if (!text) {
      showNotice("A todo needs some text. To remove it, use Delete.");
      input.focus();
      return;
    }
    save.disabled = true;
    try {
      await edit.ready;
      if (state.edit !== edit) return; // deleted elsewhere while we waited
      const current = state.todos.get(edit.id);
      if (current && current.text === text) {
        cancelEdit(true);
        return;
      }
      const { data, etag } = await request("PATCH", `/todos/${edit.id}`, {
        body: { text },
        etag: state.etags.get(edit.id),
      });
      remember(data, etag);
      place(data);
      cancelEdit(true);
      succeeded();
      announce(`Saved ${quoted(data.text)}.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        // Someone else changed it since we read it: show theirs, keep ours in the field.
        const latest = await refresh(edit.id);
        if (latest) {
          edit.original = latest.text;
          showNotice(
            `Not saved: this todo was changed somewhere else and now reads ${quoted(latest.text)}. ` +
              "Save again to replace it with your text, or Cancel to keep theirs.",
          );
        }
      } else {
        failedOn(edit.id, error, "saving the todo");
      }
    } finally {
      save.disabled = false;
      render();
      if (state.edit === edit) input.focus();
    }
  }

  // ---- filters and start-up ---------------------------------------------------------------

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

  ui.form.addEventListener("submit", add);
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
  state.filter = filterFromHash();
  loadPage(true);
})();
