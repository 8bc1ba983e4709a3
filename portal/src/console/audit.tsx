// Audit entries as the consoles show them (the admin console's log, a team's): when, who,
// what, on which target, and field by field what changed.
import React from 'react';

import { brief, when } from '../format';
import type { components } from '../schema';

export type AuditEntry = components['schemas']['AuditEntry'];

/** What an entry changed: each field whose value differs, before and after. */
export function Change({ entry }: { entry: AuditEntry }) {
  const before = (entry.before ?? {}) as Record<string, unknown>;
  const after = (entry.after ?? {}) as Record<string, unknown>;
  if (!entry.before || !entry.after) {
    // a creation's fields are all new; another action's outcome (keys revoked) is its own
    return <>{entry.after ? (entry.action === 'create' ? 'created' : brief(entry.after)) : 'removed'}</>;
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

/** The entries, newest first as the API gives them; ``empty`` when there is none. */
export function AuditTable({
  caption,
  entries,
  empty
}: {
  caption: string;
  entries: AuditEntry[] | null;
  empty: string;
}) {
  return (
    <table className="card">
      <caption>
        {caption} ({(entries ?? []).length})
      </caption>
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
        {(entries ?? []).map((e, i) => (
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
        {entries && entries.length === 0 ? (
          <tr>
            <td colSpan={5} className="empty">
              {empty}
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}
