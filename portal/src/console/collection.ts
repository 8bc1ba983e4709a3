// The pure part of the consoles' scaffold (scaffold.tsx: the admin console's tabs, the
// Teams page's roster): what a collection's columns, actions and editor are, what is
// open, and which buttons a row shows. No DOM and no API here, so that it is tested as
// it is (__tests__/scaffold.spec.ts).
import type { ReactNode } from 'react';

/** A column: its header and what a row shows in it. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** The cell names its row (a row header, `<th scope="row">`). */
  rowHeader?: boolean;
  /** The cell's tooltip (why a key was revoked, say). */
  title?: (row: T) => string | undefined;
}

/** A button on each row that changes it (remove, revoke, disable...). */
export interface RowAction<T> {
  /** The button's text, the same for every row or one a row ("Disable"/"Enable"). */
  label: string | ((row: T) => string);
  /** The button's accessible name, which says which row it is for. */
  name: (row: T) => string;
  danger?: boolean;
  /** Only on the rows it applies to; on all when absent. */
  when?: (row: T) => boolean;
  /** Asked first, in a dialog with this title and sentence; its button is the label. */
  confirm?: { title: string; sentence: (row: T) => ReactNode };
  /** The change; the rows reload after it, its refusal shows above the table, and so
   * does the sentence it resolves to, if any (how many keys it revoked, say). */
  run: (row: T) => Promise<unknown>;
}

/** Editing: an "Add" button, an "Edit" button a row, and the form for either. */
export interface RowEditor<T> {
  /** The text of the button that opens the form for a new row; none: no adding. */
  add?: string;
  /** The text of a row's Edit button when it says more ("Adjust budgets"). */
  label?: string;
  /** The row's name in its Edit button's accessible name ("Edit <name>"). */
  name: (row: T) => string;
  /** The form for ``row`` (null: a new one); it calls ``done`` when saved or cancelled. */
  form: (row: T | null, done: () => void) => ReactNode;
}

/** What is open: the form (for a row or a new one) and the question before an action. */
export interface CollectionState<T> {
  editing: T | 'new' | null;
  confirming: { action: number; row: T } | null;
}

export type CollectionEvent<T> =
  | { type: 'add' }
  | { type: 'edit'; row: T }
  | { type: 'close' }
  | { type: 'ask'; action: number; row: T }
  | { type: 'answer' };

/** Nothing open: the list alone. */
export const closed = { editing: null, confirming: null };

/** The form and the question are independent: either may be open while the other is. */
export function collectionReducer<T>(state: CollectionState<T>, event: CollectionEvent<T>): CollectionState<T> {
  switch (event.type) {
    case 'add':
      return { ...state, editing: 'new' };
    case 'edit':
      return { ...state, editing: event.row };
    case 'close':
      return { ...state, editing: null };
    case 'ask':
      return { ...state, confirming: { action: event.action, row: event.row } };
    case 'answer':
      return { ...state, confirming: null };
  }
}

/** The form's React key: another row (or a new one) gets a fresh form. */
export function editorKey<T>(editing: T | 'new', rowKey: (row: T) => string): string {
  return editing === 'new' ? '' : rowKey(editing);
}

/** The actions ``row`` shows, with their index in ``actions``. */
export function actionsFor<T>(row: T, actions: RowAction<T>[]): [RowAction<T>, number][] {
  return actions.map((a, i): [RowAction<T>, number] => [a, i]).filter(([a]) => !a.when || a.when(row));
}

export const labelOf = <T,>(action: RowAction<T>, row: T) =>
  typeof action.label === 'string' ? action.label : action.label(row);

/** A row's Edit button: its text and its accessible name, "Edit cs101" or, with a label
 * of its own, "Adjust budgets of sam". */
export function editButton<T>(editor: RowEditor<T>, row: T): { text: string; name: string } {
  return editor.label
    ? { text: editor.label, name: `${editor.label} of ${editor.name(row)}` }
    : { text: 'Edit', name: `Edit ${editor.name(row)}` };
}

/** What an action's change resolved to, shown once it is done: a sentence, or nothing
 * (an API's answer, an object, is no sentence for the reader). */
export const noticeOf = (result: unknown): string => (typeof result === 'string' ? result : '');
