// The list view and the page's messages. Rows are cloned from index.html's <template>, and
// user text reaches the page only as text (textContent, attribute values), never as HTML.

import { state, sortedTodos } from "./todos.js";

const $ = (id) => document.getElementById(id);

export const ui = {
  banner: $("banner"),
  bannerText: $("banner-text"),
  retry: $("retry"),
  todos: $("todos"),
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
  rowTemplate: $("todo-row"),
  editTemplate: $("todo-edit"),
};

const rows = new Map(); // id -> <li>

export const rowOf = (id) => rows.get(id);

// ---- messages -------------------------------------------------------------------------

export function showBanner(text) {
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
}

export function hideBanner() {
  ui.banner.hidden = true;
}

export function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
}

export function clearNotice() {
  ui.notice.hidden = true;
  ui.notice.textContent = "";
}

export function announce(text) {
  ui.announce.textContent = text;
}

export const quoted = (text) => `“${text.length > 60 ? text.slice(0, 57) + "…" : text}”`;

// A fresh copy of a <template>'s one element.
export const cloneTemplate = (template) => template.content.firstElementChild.cloneNode(true);

// ---- the list -------------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function buildRow(todo) {
  const li = cloneTemplate(ui.rowTemplate);
  li.dataset.id = String(todo.id);
  const checkbox = li.querySelector(".toggle");
  checkbox.id = `todo-${todo.id}-done`;
  li.querySelector(".todo-text").htmlFor = checkbox.id;
  return li;
}

function updateRow(li, todo) {
  li.querySelector(".toggle").checked = todo.completed;
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
export function render() {
  const todos = sortedTodos();
  const wanted = new Set(todos.map((todo) => todo.id));
  for (const [id, li] of rows) {
    if (!wanted.has(id)) {
      if (state.edit && state.edit.id === id) state.edit = null;
      keepFocusNear(li);
      li.remove();
      rows.delete(id);
    }
  }
  todos.forEach((todo, index) => {
    let li = rows.get(todo.id);
    if (!li) {
      li = buildRow(todo);
      rows.set(todo.id, li);
    }
    updateRow(li, todo);
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
