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

export function matchesFilter(todo) {
  const wanted = FILTERS[state.filter];
  return wanted === null || String(todo.completed) === wanted;
}

export function remember(todo, etag) {
  if (etag) state.etags.set(todo.id, etag);
}

// A todo the API just returned: kept if it belongs in the current view, dropped if not.
export function place(todo) {
  if (matchesFilter(todo)) state.todos.set(todo.id, todo);
  else state.todos.delete(todo.id);
}

// Everything loaded, for a fresh load or a user signing out; answers to earlier loads are
// dropped (the generation moves on).
export function forgetAll() {
  state.generation += 1;
  state.todos.clear();
  state.etags.clear();
  state.next = null;
  state.loaded = false;
  state.edit = null;
}

export function forget(id) {
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
