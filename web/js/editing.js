// Inline editing of a todo's text: Edit, then Enter saves (conditionally, with If-Match)
// and Escape cancels.

import { failedOn, refresh, succeeded } from "./actions.js";
import { ApiError, request } from "./api.js";
import { maxTextChars } from "./settings.js";
import { place, remember, state } from "./todos.js";
import {
  announce,
  clearNotice,
  cloneTemplate,
  quoted,
  render,
  rowOf,
  showNotice,
  ui,
} from "./view.js";

export function startEdit(id) {
  const todo = state.todos.get(id);
  const li = rowOf(id);
  if (!todo || !li) return;
  cancelEdit(false);
  clearNotice();

  const form = cloneTemplate(ui.editTemplate);
  const input = form.querySelector(".edit-input");
  input.id = `todo-${id}-edit`;
  form.querySelector("label").htmlFor = input.id;
  input.maxLength = maxTextChars;
  input.value = todo.text;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit();
  });
  form.querySelector(".cancel").addEventListener("click", () => cancelEdit(true));
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

export function cancelEdit(restoreFocus) {
  const edit = state.edit;
  if (!edit) return;
  state.edit = null;
  const li = rowOf(edit.id);
  if (!li) return;
  li.classList.remove("editing");
  const form = li.querySelector(".edit-form");
  if (form) form.remove();
  if (restoreFocus) li.querySelector(".edit").focus();
}

async function saveEdit() {
  const edit = state.edit;
  const li = edit && rowOf(edit.id);
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
