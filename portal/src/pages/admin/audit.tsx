// Audit: the admins' changes, newest first, filtered as the API allows.
import React, { useState } from 'react';

import { api } from '../../api';
import { Problem, useLoad } from '../../common';
import { AuditEntry, AuditTable } from '../../console/audit';
import { TextField } from '../../console/fields';

const FILTERS = [
  ['actor', 'Actor', 'admin'],
  ['action', 'Action', 'create, update, delete, revoke'],
  ['target_type', 'Target type', 'model, profile, group, user, key'],
  ['target', 'Target', 'smollm2-135m']
] as const;
type Filter = Record<(typeof FILTERS)[number][0] | 'since', string>;
const NONE: Filter = { actor: '', action: '', target_type: '', target: '', since: '' };

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
      <AuditTable caption="Admin changes, newest first" entries={audit.data?.entries ?? null} empty="No change matches." />
    </>
  );
}
