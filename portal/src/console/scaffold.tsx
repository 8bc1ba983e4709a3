// What a console's collection does the same way whatever its rows are (the admin tabs'
// models, profiles, overrides, keys and teams; a team's roster): load the rows, show them
// in a table with a button per action, open the edit form for one row or a new one, ask
// before a change that cannot be undone, show the API's refusal or the change's outcome,
// reload after a change. The page keeps what is its own: the columns, the form's fields,
// the sentences.
import React, { useReducer, useState } from 'react';

import { attempt, Problem, useLoad } from '../common';
import {
  actionsFor,
  closed,
  CollectionEvent,
  CollectionState,
  collectionReducer,
  Column,
  editButton,
  editorKey,
  labelOf,
  noticeOf,
  RowAction,
  RowEditor
} from './collection';
import { Confirm } from './fields';

export type { Column, RowAction, RowEditor } from './collection';

export interface AdminCollectionProps<T> {
  title: string;
  /** The rows; reloaded when ``deps`` change and after every change. */
  load: () => Promise<T[]>;
  deps?: unknown[];
  rowKey: (row: T) => string;
  columns: Column<T>[];
  caption: React.ReactNode | ((rows: T[]) => React.ReactNode);
  /** The sentence in place of the rows when there is none. */
  empty?: string;
  actions?: RowAction<T>[];
  editor?: RowEditor<T>;
  /** Shown between the title and the table (a filter form, say). */
  filters?: React.ReactNode;
  /** Called after a change (an action done, the form closed), for what else shows it. */
  onChange?: () => void;
}

export function AdminCollection<T>({
  title,
  load,
  deps = [],
  rowKey,
  columns,
  caption,
  empty,
  actions = [],
  editor,
  filters,
  onChange
}: AdminCollectionProps<T>) {
  const rows = useLoad(load, deps);
  const [state, dispatch] = useReducer(
    (s: CollectionState<T>, e: CollectionEvent<T>) => collectionReducer(s, e),
    closed
  );
  const [problem, setProblem] = useState('');
  const [notice, setNotice] = useState('');
  const list = rows.data ?? [];
  const run = (action: RowAction<T>, row: T) => {
    setNotice('');
    return attempt(setProblem, async () => {
      setNotice(noticeOf(await action.run(row)));
      rows.reload();
      onChange?.();
    });
  };
  const press = (action: RowAction<T>, index: number, row: T) =>
    action.confirm ? dispatch({ type: 'ask', action: index, row }) : run(action, row);
  const done = () => {
    dispatch({ type: 'close' });
    rows.reload();
    onChange?.();
  };
  const asked = state.confirming;
  const askedAction = asked ? actions[asked.action] : undefined;
  return (
    <>
      {editor?.add ? (
        <div className="toolbar">
          <h3>{title}</h3>
          <button className="primary" onClick={() => dispatch({ type: 'add' })}>
            {editor.add}
          </button>
        </div>
      ) : (
        <h3>{title}</h3>
      )}
      {filters}
      <Problem text={problem || rows.error} />
      {/* there before its sentence, so that assistive technology reads the sentence out */}
      <p className="notice" role="status">
        {notice}
      </p>
      {editor && state.editing ? (
        <React.Fragment key={editorKey(state.editing, rowKey)}>
          {editor.form(state.editing === 'new' ? null : state.editing, done)}
        </React.Fragment>
      ) : null}
      {asked && askedAction?.confirm ? (
        <Confirm
          title={askedAction.confirm.title}
          action={labelOf(askedAction, asked.row)}
          onConfirm={() => {
            dispatch({ type: 'answer' });
            return run(askedAction, asked.row);
          }}
          onCancel={() => dispatch({ type: 'answer' })}
        >
          {askedAction.confirm.sentence(asked.row)}
        </Confirm>
      ) : null}
      <table className="card">
        <caption>{typeof caption === 'function' ? caption(list) : caption}</caption>
        <thead>
          <tr>
            {columns.map(c => (
              <th key={c.header} scope="col">
                {c.header}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.map(row => (
            <tr key={rowKey(row)}>
              {columns.map(c =>
                c.rowHeader ? (
                  <th key={c.header} scope="row">
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.header} title={c.title?.(row)}>
                    {c.cell(row)}
                  </td>
                )
              )}
              <td className="actions">
                {editor ? (
                  <button onClick={() => dispatch({ type: 'edit', row })} aria-label={editButton(editor, row).name}>
                    {editButton(editor, row).text}
                  </button>
                ) : null}
                {actionsFor(row, actions).map(([action, index], n) => (
                  <React.Fragment key={index}>
                    {editor || n > 0 ? ' ' : null}
                    <button
                      className={action.danger ? 'danger' : undefined}
                      onClick={() => press(action, index, row)}
                      aria-label={action.name(row)}
                    >
                      {labelOf(action, row)}
                    </button>
                  </React.Fragment>
                ))}
              </td>
            </tr>
          ))}
          {empty && rows.data && list.length === 0 ? (
            <tr>
              <td colSpan={columns.length + 1} className="empty">
                {empty}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}

/** A form in a card, titled, with Save and Cancel; ``save``'s refusal shows above them. */
export function EditorCard({
  title,
  intro,
  save,
  onCancel,
  children,
  after
}: {
  title: string;
  intro?: React.ReactNode;
  save: () => Promise<void>;
  onCancel: () => void;
  children: React.ReactNode;
  after?: React.ReactNode;
}) {
  const [problem, setProblem] = useState('');
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    return attempt(setProblem, save);
  };
  return (
    <section className="card editor" aria-label={title}>
      <h4>{title}</h4>
      {intro}
      <form onSubmit={submit}>
        {children}
        <Problem text={problem} />
        <button type="submit" className="primary">
          Save
        </button>{' '}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </form>
      {after}
    </section>
  );
}
