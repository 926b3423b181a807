/**
 * A JSON definition editor for one resource (an agent, a provider): its id
 * (fixed once it exists), the definition as JSON text, Save and Delete (two
 * clicks), and the answer. Pages supply how to save and delete, and any extra
 * fields (a provider's write-only key).
 */
import { ApiError } from './api.js';
import { errorText, fill, h, notice } from './dom.js';

export type Definition = Record<string, unknown>;

export interface EditorOptions {
  /** What the resource is called ("agent", "provider"): headings and messages. */
  noun: string;
  /** Element ids are `<prefix>-id`, `<prefix>-json`, `<prefix>-save`, `<prefix>-delete`, `<prefix>-result`. */
  prefix: string;
  /** The existing resource's id; undefined: a new one. */
  id: string | undefined;
  definition: Definition;
  /** More fields under the JSON (they are read by `save`). */
  extra?: HTMLElement[];
  /** Saves and resolves with the id saved; the editor then reopens on it with `saved` shown. */
  save(id: string, definition: Definition): Promise<string>;
  remove(id: string): Promise<void>;
  /** After a save or a delete: reload the list, reopen the editor. */
  done(id: string | undefined, message: string): void;
}

export function jsonEditor(into: HTMLElement, o: EditorOptions): void {
  const id = h('input', { id: `${o.prefix}-id`, 'aria-label': `${o.noun} id`, maxlength: 128, placeholder: 'id', value: o.id ?? '', disabled: o.id !== undefined });
  const text = h('textarea', { id: `${o.prefix}-json`, 'aria-label': 'Definition (JSON)', spellcheck: 'false' });
  text.value = JSON.stringify(o.definition, null, 2);
  const save = h('button', { type: 'submit', id: `${o.prefix}-save` }, o.id === undefined ? 'Create' : 'Save');
  const remove = h('button', { type: 'button', class: 'danger', id: `${o.prefix}-delete`, hidden: o.id === undefined }, 'Delete');
  const out = h('div', { id: `${o.prefix}-result` });
  const form = h('form', { class: 'card json-editor' },
    h('h2', {}, o.id === undefined ? `New ${o.noun}` : `Edit ${o.id}`), id, text, ...(o.extra ?? []), h('div', { class: 'row' }, save, remove), out);
  const failed = (err: unknown): void => {
    save.disabled = false;
    const reason = err instanceof ApiError && err.reason !== undefined ? ` (${err.reason})` : '';
    fill(out, notice('error', `${errorText(err)}${reason}`));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    let definition: Definition;
    try {
      const parsed: unknown = JSON.parse(text.value);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the definition must be a JSON object');
      definition = parsed as Definition;
    } catch (err) {
      fill(out, notice('error', `Not valid JSON: ${errorText(err)}`));
      return;
    }
    save.disabled = true;
    // The last answer goes: what shows next is this save's.
    fill(out);
    o.save(id.value.trim(), definition).then((saved) => o.done(saved, `Saved ${saved}: the next run uses it.`), failed);
  });
  let armed = false;
  remove.addEventListener('click', () => {
    if (o.id === undefined) return;
    const target = o.id;
    if (!armed) {
      armed = true;
      remove.textContent = `Really delete ${target}?`;
      return;
    }
    o.remove(target).then(() => o.done(undefined, `Deleted ${target}.`), failed);
  });
  fill(into, form);
  (o.id === undefined ? id : text).focus();
}

/**
 * The `done` of an editor: reloads the list, then reopens the editor on the
 * resource saved with `message` under it, or shows `message` alone (deleted).
 */
export function reopenAfter<T extends { id: string }>(
  into: HTMLElement, prefix: string, load: () => Promise<T[]>, edit: (row: T) => void,
): EditorOptions['done'] {
  return (id, message) => {
    void load().then((rows) => {
      const saved = rows.find((r) => r.id === id);
      if (saved === undefined) {
        fill(into, notice('ok', message));
        return;
      }
      edit(saved);
      const out = document.getElementById(`${prefix}-result`);
      if (out !== null) fill(out, notice('ok', message));
    });
  };
}
