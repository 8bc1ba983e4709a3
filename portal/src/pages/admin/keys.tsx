// Keys: every user's keys (metadata only), filtered by user and state; revoke any.
import React, { useState } from 'react';

import { api } from '../../api';
import { attempt, Problem, useLoad } from '../../common';
import { AdminKey, Choice, Confirm, enc, TextField, useChoices, when } from './shared';
import { keyLabel } from '../../usage';

export function KeysTab() {
  const [user, setUser] = useState('');
  const [state, setState] = useState('active');
  const [filter, setFilter] = useState({ user: '', state: 'active' });
  const states = useChoices('AdminKey', 'state');
  const keys = useLoad(() => {
    const query = new URLSearchParams({ limit: '500' });
    if (filter.user) {
      query.set('user', filter.user);
    }
    if (filter.state) {
      query.set('state', filter.state);
    }
    return api<{ keys: AdminKey[] }>('GET', `admin/keys?${query}`);
  }, [filter]);
  const [confirm, setConfirm] = useState<AdminKey | null>(null);
  const [problem, setProblem] = useState('');
  const revoke = (k: AdminKey) => {
    setConfirm(null);
    return attempt(setProblem, async () => {
      await api('DELETE', `admin/keys/${enc(k.id ?? '')}`);
      keys.reload();
    });
  };
  const apply = (e: React.FormEvent) => {
    e.preventDefault();
    setFilter({ user: user.trim(), state });
  };
  const rows = keys.data?.keys ?? [];
  return (
    <>
      <h3>Users' keys</h3>
      <form className="card toolbar" onSubmit={apply} aria-label="Filter keys">
        <TextField label="User" value={user} onChange={setUser} placeholder="everyone" />
        <Choice label="State" value={state} onChange={setState} options={[['', 'any'], ...states.map((s): [string, string] => [s, s])]} />
        <button type="submit">Show</button>
      </form>
      <Problem text={problem || keys.error} />
      {confirm ? (
        <Confirm title="Confirm revocation" action="Revoke" onConfirm={() => revoke(confirm)} onCancel={() => setConfirm(null)}>
          Revoke {confirm.user}'s key <strong>{confirm.name || confirm.server_name || confirm.masked}</strong> (
          <code>{confirm.masked}</code>)? Programs and notebooks using it stop working at once.
        </Confirm>
      ) : null}
      <table className="card">
        <caption>
          Keys{filter.user ? ` of ${filter.user}` : ''}
          {filter.state ? `, ${filter.state}` : ''}, newest first ({rows.length})
        </caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Name or server</th>
            <th scope="col">Key</th>
            <th scope="col">Profile</th>
            <th scope="col">Models</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(k => (
            <tr key={k.id}>
              <td>
                {k.user}
                {k.user_deleted_at ? ' (deleted)' : ''}
              </td>
              <td>{keyLabel(k)}</td>
              <td>
                <code>{k.masked}</code>
              </td>
              <td>{k.profile ?? '-'}</td>
              <td>{k.models ? k.models.join(', ') : 'all of its policy'}</td>
              <td>{when(k.created)}</td>
              <td>{when(k.expires_at)}</td>
              <td title={k.revoked_reason ?? undefined}>{k.state}</td>
              <td className="actions">
                {k.state === 'active' ? (
                  <button className="danger" onClick={() => setConfirm(k)} aria-label={`Revoke ${k.user}'s key ${k.masked}`}>
                    Revoke
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
          {keys.data && rows.length === 0 ? (
            <tr>
              <td colSpan={9} className="empty">
                No key matches.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}
