import React, { useState } from 'react';

import { api, config, IssuedKey, me, OwnKey, Policy, Usage } from '../api';
import { attempt, Problem, Snippets, Stat, useLoad } from '../common';
import { count, money } from '../format';

/** Which of my models a key may call: all of them (null) or some. */
function ModelChoice({
  allowed,
  value,
  onChange
}: {
  allowed: string[];
  value: string[] | null;
  onChange: (models: string[] | null) => void;
}) {
  return (
    <fieldset className="models-choice">
      <legend>Models</legend>
      <label>
        <input type="checkbox" checked={value === null} onChange={e => onChange(e.target.checked ? null : [])} /> All
        my models
      </label>
      {value !== null
        ? allowed.map(m => (
            <label key={m}>
              <input
                type="checkbox"
                checked={value.includes(m)}
                onChange={e => onChange(e.target.checked ? [...value, m] : value.filter(x => x !== m))}
              />{' '}
              {m}
            </label>
          ))
        : null}
    </fieldset>
  );
}

/** A key's spend over the last 30 days, by model. */
function KeyUsage({ keyRow }: { keyRow: OwnKey }) {
  const usage = useLoad(() => api<Usage>('GET', `users/${me()}/usage?days=30&key_id=${keyRow.id}`), [keyRow.id]);
  const u = usage.data;
  return (
    <div className="card drill" aria-label={`Usage of ${keyRow.name}`}>
      <Problem text={usage.error} />
      {u ? (
        <>
          <div className="cards">
            <Stat label="Spend, 30 days" value={money(u.total_cost_usd ?? 0)} />
            <Stat label="Requests, 30 days" value={count(u.total_requests ?? 0)} />
          </div>
          <ul>
            {(u.by_model ?? []).map(m => (
              <li key={m.model}>
                {m.model}: {count(m.requests ?? 0)} requests, {money(m.cost_usd ?? 0)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function KeyEditor({
  keyRow,
  allowed,
  onSave,
  onCancel
}: {
  keyRow: OwnKey;
  allowed: string[];
  onSave: (name: string, models: string[] | null) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(keyRow.name ?? '');
  const [models, setModels] = useState<string[] | null>(keyRow.models ?? null);
  return (
    <form
      className="card editor"
      aria-label={`Edit ${keyRow.name}`}
      onSubmit={e => {
        e.preventDefault();
        onSave(name, models);
      }}
    >
      <label>
        Name <input required maxLength={255} value={name} onChange={e => setName(e.target.value)} />
      </label>
      <ModelChoice allowed={allowed} value={models} onChange={setModels} />
      <button type="submit" className="primary">
        Save
      </button>{' '}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

type Pending = { action: 'revoke' | 'regenerate'; key: OwnKey };

export function KeysPage() {
  const keys = useLoad(() => api<{ keys: OwnKey[] }>('GET', `users/${me()}/keys`));
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const allowed = policy.data?.allowed_models ?? [];
  const [name, setName] = useState('');
  const [models, setModels] = useState<string[] | null>(null);
  const [days, setDays] = useState('');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [problem, setProblem] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [drill, setDrill] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const personal = (keys.data?.keys ?? []).filter(k => k.server_name == null);
  const show = (key: IssuedKey) => {
    setIssued(key);
    setCopied(false);
    keys.reload();
  };
  const create = (e: React.FormEvent) => {
    e.preventDefault();
    return attempt(setProblem, async () => {
      const body = { name, models, ...(days ? { expires_in_days: Number(days) } : {}) };
      show(await api<IssuedKey>('POST', `users/${me()}/keys`, body));
      setName('');
      setModels(null);
      setDays('');
    });
  };
  const confirmed = ({ action, key }: Pending) => {
    setPending(null);
    return attempt(setProblem, async () => {
      if (action === 'revoke') {
        await api('DELETE', `users/${me()}/keys/${key.id}`);
        keys.reload();
      } else {
        show(await api<IssuedKey>('POST', `users/${me()}/keys/${key.id}/regenerate`));
      }
    });
  };
  const save = (key: OwnKey) => (newName: string, newModels: string[] | null) =>
    attempt(setProblem, async () => {
      await api('PATCH', `users/${me()}/keys/${key.id}`, { name: newName, models: newModels });
      setEditing(null);
      keys.reload();
    });
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API Keys</h2>
      <p>
        Personal keys call the gateway at <code>{config.baseUrl}</code> from outside your notebooks. Your notebook
        servers get their own keys by themselves.
      </p>
      <form className="card create-key" onSubmit={create} aria-label="New key">
        <label>
          Name <input required maxLength={255} value={name} onChange={e => setName(e.target.value)} />
        </label>
        <label>
          Expires in (days){' '}
          <input
            type="number"
            min={1}
            placeholder="the longest allowed"
            value={days}
            onChange={e => setDays(e.target.value)}
          />
        </label>
        <ModelChoice allowed={allowed} value={models} onChange={setModels} />
        <button type="submit" className="primary">
          Create key
        </button>
      </form>
      <Problem text={problem || keys.error || policy.error} />
      {issued ? (
        <div className="card issued" role="status">
          <p>
            Your key <strong>{issued.name}</strong>. Copy it now: it is shown only once.
          </p>
          <code data-testid="new-key">{issued.key}</code>{' '}
          <button onClick={() => navigator.clipboard?.writeText(issued.key ?? '').then(() => setCopied(true))}>
            {copied ? 'Copied' : 'Copy'}
          </button>
          <Snippets model={issued.models?.[0] ?? 'MODEL'} keyText={issued.key} />
          <button className="link" onClick={() => setIssued(null)}>
            Done
          </button>
        </div>
      ) : null}
      {pending ? (
        <div className="card confirm" role="alertdialog" aria-label={`Confirm: ${pending.action}`}>
          <p>
            {pending.action === 'revoke' ? 'Revoke' : 'Regenerate'} <strong>{pending.key.name}</strong>?{' '}
            {pending.action === 'revoke'
              ? 'Programs using it stop working at once.'
              : 'It gets a new secret; programs using the old one stop working at once.'}
          </p>
          <button className="danger" onClick={() => confirmed(pending)}>
            {pending.action === 'revoke' ? 'Revoke' : 'Regenerate'}
          </button>{' '}
          <button onClick={() => setPending(null)}>Cancel</button>
        </div>
      ) : null}
      <table className="card keys">
        <caption>Your personal keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Models</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Spend</th>
            <th scope="col">State</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {personal.map(k => (
            <React.Fragment key={k.id}>
              <tr>
                <td>{k.name}</td>
                <td>
                  <code>{k.masked}</code>
                </td>
                <td>{k.models ? k.models.join(', ') : 'all yours'}</td>
                <td>{k.created?.slice(0, 10)}</td>
                <td>{k.expires_at?.slice(0, 10)}</td>
                <td>{k.last_used ? k.last_used.slice(0, 16).replace('T', ' ') : 'never'}</td>
                <td>{money(k.spend_usd ?? 0)}</td>
                <td>{k.state}</td>
                <td className="actions">
                  <button className="link" onClick={() => setDrill(drill === k.id ? null : (k.id ?? null))}>
                    Usage
                  </button>
                  {k.state === 'active' ? (
                    <>
                      <button className="link" onClick={() => setEditing(k.id ?? null)}>
                        Edit
                      </button>
                      <button className="link" onClick={() => setPending({ action: 'regenerate', key: k })}>
                        Regenerate
                      </button>
                      <button className="danger" onClick={() => setPending({ action: 'revoke', key: k })}>
                        Revoke
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
              {editing === k.id || drill === k.id ? (
                <tr>
                  <td colSpan={9}>
                    {editing === k.id ? (
                      <KeyEditor keyRow={k} allowed={allowed} onSave={save(k)} onCancel={() => setEditing(null)} />
                    ) : null}
                    {drill === k.id ? <KeyUsage keyRow={k} /> : null}
                  </td>
                </tr>
              ) : null}
            </React.Fragment>
          ))}
          {keys.data && personal.length === 0 ? (
            <tr>
              <td colSpan={9} className="empty">
                No personal key yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
