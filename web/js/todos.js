// The page's state: the todos loaded for the current filter, their ETags, the open edit.

// The API's completed=true|false filter for each view; null = no filter.
export const FILTERS = { all: null, active: "false", completed: "true" };

export const state = {
  filter: "all",
  todos: new Map(), // id -> todo, the todos loaded for the current filter
  etags: new Map(), // id -> the ETag of the last response that carried one
  next: null, // the next page's URL (api.nextPage); null once the last page is in
  loaded: false, // the first page of the current filter has arrived
  loadingPage: false,
  generation: 0, // bumped by every fresh load: answers to older loads are dropped
  edit: null, // {id, original, ready} while a todo's text is being edited
};

export const toggling = new Set(); // ids with a toggle in flight

// What this page wrote (or read by id) lately, laid over every list it loads afterwards: in
// cognito mode the list is a Query on an eventually consistent index, which may not show a
// write for a moment, so a filter switch or a retry right after an add must not lose it (nor
// bring back a todo just deleted). Gets by id and writes are strongly consistent.
const RECENT_MS = 30_000;
const recent = new Map(); // id -> {todo, at}; todo null = deleted

function noteRecent(id, todo) {
  recent.set(id, { todo, at: Date.now() });
}

// A page of the list as the API sent it, corrected by the recent writes; `first` = the
// first page, `last` = no page after it. Newest first: a todo missing from the list belongs
// on this page if it is newer than the page's oldest (ids grow with time).
export function overlaid(todos, { first, last }) {
  const now = Date.now();
  const byId = new Map(todos.map((todo) => [todo.id, todo]));
  const oldest = todos.length ? Math.min(...todos.map((todo) => todo.id)) : Infinity;
  for (const [id, { todo, at }] of recent) {
    if (now - at > RECENT_MS) {
      recent.delete(id);
    } else if (todo === null) {
      byId.delete(id);
    } else if (byId.has(id)) {
      if (byId.get(id).updatedAt < todo.updatedAt) byId.set(id, todo);
    } else if (matchesFilter(todo) && ((first && id > oldest) || last)) {
      byId.set(id, todo);
    }
  }
  return Array.from(byId.values()).filter(matchesFilter);
}

export function matchesFilter(todo) {
  const wanted = FILTERS[state.filter];
  return wanted === null || String(todo.completed) === wanted;
}

export function remember(todo, etag) {
  if (etag) state.etags.set(todo.id, etag);
}

// A todo the API just returned: kept if it belongs in the current view, dropped if not.
export function place(todo) {
  noteRecent(todo.id, todo);
  if (matchesFilter(todo)) state.todos.set(todo.id, todo);
  else state.todos.delete(todo.id);
}

// Everything loaded, for a fresh load or (with `user`) a user signing out, when what they
// wrote is forgotten too; answers to earlier loads are dropped (the generation moves on).
export function forgetAll({ user = false } = {}) {
  if (user) recent.clear();
  state.generation += 1;
  state.todos.clear();
  state.etags.clear();
  state.next = null;
  state.loaded = false;
  state.edit = null;
}

export function forget(id) {
  noteRecent(id, null);
  state.todos.delete(id);
  state.etags.delete(id);
  if (state.edit && state.edit.id === id) state.edit = null;
}

// The API's scan order is arbitrary: show newest first, ties broken by id.
export function sortedTodos() {
  return Array.from(state.todos.values()).sort((a, b) => {
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
    return b.id - a.id;
  });
}
