import React, { useState } from 'react';

import { api, config, IssuedKey, Key, me } from '../api';
import { attempt, Problem, useLoad } from '../common';
import { snippets } from '../format';

export function KeysPage() {
  const keys = useLoad(() => api<{ keys: Key[] }>('GET', `users/${me()}/keys`));
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [problem, setProblem] = useState('');
  const [confirm, setConfirm] = useState<Key | null>(null);
  const [copied, setCopied] = useState(false);
  const personal = (keys.data?.keys ?? []).filter(k => !k.server_name);
  const create = (e: React.FormEvent) => {
    e.preventDefault();
    return attempt(setProblem, async () => {
      setIssued(await api<IssuedKey>('POST', `users/${me()}/keys`, { name }));
      setName('');
      setCopied(false);
      keys.reload();
    });
  };
  const revoke = (key: Key) => {
    setConfirm(null);
    return attempt(setProblem, async () => {
      await api('DELETE', `users/${me()}/keys/${key.id}`);
      keys.reload();
    });
  };
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API Keys</h2>
      <p>
        Personal keys call the gateway at <code>{config.baseUrl}</code> from outside your notebooks. Your notebook
        servers get their own keys by themselves.
      </p>
      <form className="card toolbar" onSubmit={create}>
        <label>
          Name <input required maxLength={255} value={name} onChange={e => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Create key
        </button>
      </form>
      <Problem text={problem || keys.error} />
      {issued ? (
        <div className="card issued" role="status">
          <p>
            Your new key <strong>{issued.name}</strong>. Copy it now: it is shown only once.
          </p>
          <code data-testid="new-key">{issued.key}</code>{' '}
          <button
            onClick={() => navigator.clipboard?.writeText(issued.key ?? '').then(() => setCopied(true))}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
          <pre className="code">{snippets(config.baseUrl, issued.models?.[0] ?? 'MODEL', issued.key).curl}</pre>
          <button className="link" onClick={() => setIssued(null)}>
            Done
          </button>
        </div>
      ) : null}
      {confirm ? (
        <div className="card confirm" role="alertdialog" aria-label="Confirm revocation">
          <p>
            Revoke <strong>{confirm.name}</strong>? Programs using it stop working at once.
          </p>
          <button className="danger" onClick={() => revoke(confirm)}>
            Revoke
          </button>{' '}
          <button onClick={() => setConfirm(null)}>Cancel</button>
        </div>
      ) : null}
      <table className="card">
        <caption>Your personal keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {personal.map(k => (
            <tr key={k.id}>
              <td>{k.name}</td>
              <td>
                <code>{k.masked}</code>
              </td>
              <td>{k.created?.slice(0, 10)}</td>
              <td>{k.expires_at?.slice(0, 10)}</td>
              <td>{k.state}</td>
              <td>
                {k.state === 'active' ? (
                  <button className="danger" onClick={() => setConfirm(k)}>
                    Revoke
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
          {keys.data && personal.length === 0 ? (
            <tr>
              <td colSpan={6} className="empty">
                No personal key yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
