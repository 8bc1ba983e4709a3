// Keys: every user's keys (metadata only), filtered by user and state; revoke any.
import React, { useState } from 'react';

import { api } from '../../api';
import { Choice, enc, TextField, when } from '../../console/fields';
import { AdminCollection, Column, RowAction } from '../../console/scaffold';
import { keyLabel } from '../../usage';
import { AdminKey, useChoices } from './shared';

const COLUMNS: Column<AdminKey>[] = [
  {
    header: 'User',
    cell: k => (
      <>
        {k.user}
        {k.user_deleted_at ? ' (deleted)' : ''}
      </>
    )
  },
  { header: 'Name or server', cell: keyLabel },
  { header: 'Key', cell: k => <code>{k.masked}</code> },
  { header: 'Profile', cell: k => k.profile ?? '-' },
  { header: 'Models', cell: k => (k.models ? k.models.join(', ') : 'all of its policy') },
  { header: 'Created', cell: k => when(k.created) },
  { header: 'Expires', cell: k => when(k.expires_at) },
  { header: 'State', cell: k => k.state, title: k => k.revoked_reason ?? undefined }
];

const ACTIONS: RowAction<AdminKey>[] = [
  {
    label: 'Revoke',
    name: k => `Revoke ${k.user}'s key ${k.masked}`,
    danger: true,
    when: k => k.state === 'active',
    confirm: {
      title: 'Confirm revocation',
      sentence: k => (
        <>
          Revoke {k.user}'s key <strong>{k.name || k.server_name || k.masked}</strong> (<code>{k.masked}</code>)? Programs
          and notebooks using it stop working at once.
        </>
      )
    },
    run: k => api('DELETE', `admin/keys/${enc(k.id ?? '')}`)
  }
];

export function KeysTab() {
  const [user, setUser] = useState('');
  const [state, setState] = useState('active');
  const [filter, setFilter] = useState({ user: '', state: 'active' });
  const states = useChoices('AdminKey', 'state');
  const load = () => {
    const query = new URLSearchParams({ limit: '500' });
    if (filter.user) {
      query.set('user', filter.user);
    }
    if (filter.state) {
      query.set('state', filter.state);
    }
    return api<{ keys: AdminKey[] }>('GET', `admin/keys?${query}`).then(d => d.keys);
  };
  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    setFilter({ user: user.trim(), state });
  };
  return (
    <AdminCollection
      title="Users' keys"
      load={load}
      deps={[filter]}
      rowKey={k => k.id ?? ''}
      columns={COLUMNS}
      caption={rows => (
        <>
          Keys{filter.user ? ` of ${filter.user}` : ''}
          {filter.state ? `, ${filter.state}` : ''}, newest first ({rows.length})
        </>
      )}
      empty="No key matches."
      actions={ACTIONS}
      filters={
        <form className="card toolbar" onSubmit={apply} aria-label="Filter keys">
          <TextField label="User" value={user} onChange={setUser} placeholder="everyone" />
          <Choice label="State" value={state} onChange={setState} options={[['', 'any'], ...states.map((s): [string, string] => [s, s])]} />
          <button type="submit">Show</button>
        </form>
      }
    />
  );
}
