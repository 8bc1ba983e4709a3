// Audit: the admins' changes, newest first, filtered as the API allows.
import React, { useState } from 'react';

import { api } from '../../api';
import { Problem, useLoad } from '../../common';
import { AuditEntry, brief, TextField, when } from './shared';

const FILTERS = [
  ['actor', 'Actor', 'admin'],
  ['action', 'Action', 'create, update, delete, revoke'],
  ['target_type', 'Target type', 'model, profile, group, user, key'],
  ['target', 'Target', 'smollm2-135m']
] as const;
type Filter = Record<(typeof FILTERS)[number][0] | 'since', string>;
const NONE: Filter = { actor: '', action: '', target_type: '', target: '', since: '' };

/** What an entry changed: each field whose value differs, before and after. */
function Change({ entry }: { entry: AuditEntry }) {
  const before = (entry.before ?? {}) as Record<string, unknown>;
  const after = (entry.after ?? {}) as Record<string, unknown>;
  if (!entry.before || !entry.after) {
    return <>{entry.after ? 'created' : 'removed'}</>;
  }
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    k => k !== 'updated' && JSON.stringify(before[k]) !== JSON.stringify(after[k])
  );
  if (!fields.length) {
    return <>no field changed</>;
  }
  return (
    <ul className="changes">
      {fields.map(k => (
        <li key={k}>
          <code>{k}</code>: {brief(before[k])} → {brief(after[k])}
        </li>
      ))}
    </ul>
  );
}

export function AuditTab() {
  const [form, setForm] = useState<Filter>(NONE);
  const [filter, setFilter] = useState<Filter>(NONE);
  const audit = useLoad(() => {
    const query = new URLSearchParams({ limit: '200' });
    for (const [name, value] of Object.entries(filter)) {
      if (value.trim()) {
        query.set(name, value.trim());
      }
    }
    return api<{ entries: AuditEntry[] }>('GET', `admin/audit?${query}`);
  }, [filter]);
  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    setFilter(form);
  };
  const set = (name: keyof Filter) => (value: string) => setForm(f => ({ ...f, [name]: value }));
  const entries = audit.data?.entries ?? [];
  return (
    <>
      <h3>Audit log</h3>
      <form className="card toolbar wrap" onSubmit={apply} aria-label="Filter the audit log">
        {FILTERS.map(([name, label, hint]) => (
          <TextField key={name} label={label} value={form[name]} onChange={set(name)} placeholder={hint} />
        ))}
        <TextField label="Since" type="date" value={form.since} onChange={set('since')} />
        <button type="submit">Show</button>{' '}
        <button
          type="button"
          onClick={() => {
            setForm(NONE);
            setFilter(NONE);
          }}
        >
          Clear
        </button>
      </form>
      <Problem text={audit.error} />
      <table className="card">
        <caption>Admin changes, newest first ({entries.length})</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e, i) => (
            <tr key={`${e.ts}-${i}`}>
              <td>{when(e.ts)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>
                {e.target_type} <strong>{e.target}</strong>
              </td>
              <td>
                <Change entry={e} />
              </td>
            </tr>
          ))}
          {audit.data && entries.length === 0 ? (
            <tr>
              <td colSpan={5} className="empty">
                No change matches.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}
