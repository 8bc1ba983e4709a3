// Notebooks: your servers (open, stop) and a new one with a profile of your choice. The
// service asks the hub, as you, to list, start and stop them (hub_service/servers.py).
import React, { useEffect, useState } from 'react';

import { api, me, Model, Profile } from '../api';
import { attempt, Problem, useLoad } from '../common';
import { budgetsText } from '../budgets';
import type { components } from '../schema';

type Server = components['schemas']['Server'];

// how often the list is asked for again while a server starts or stops
const POLL_MS = 2000;

const STATUS_TEXT: Record<Server['status'], string> = {
  pending: 'Starting…',
  ready: 'Ready',
  stopping: 'Stopping…',
  stopped: 'Stopped'
};

function serverPath(name: string): string {
  // the default server has no name: the hub's (and the service's) own path for it
  return name ? `users/${me()}/servers/${encodeURIComponent(name)}` : `users/${me()}/server`;
}

function label(server: Server): string {
  return server.name || 'default';
}

function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }) : '-';
}

/** "4G" as "4 GB", "512Mi" as "512 MiB". */
export function memory(quantity: string): string {
  const m = /^([0-9.]+)([KMGTPE]i?)?$/.exec(quantity);
  return m ? `${m[1]} ${m[2] ?? ''}B` : quantity;
}

/** A profile's resources in words: "2 cores · 4 GB · 1 GPU". */
export function resources(profile: Profile): string {
  const r = profile.resources ?? {};
  const parts = [];
  if (r.cpu_limit) {
    parts.push(`${r.cpu_limit} ${r.cpu_limit === 1 ? 'core' : 'cores'}`);
  }
  if (r.mem_limit) {
    parts.push(memory(r.mem_limit));
  }
  if (r.gpu) {
    parts.push(`${r.gpu} GPU`);
  }
  return parts.join(' · ') || 'The hub’s defaults';
}

/** The enabled catalog models a profile allows ("*": all of them). */
export function allowedModels(profile: Profile, models: Model[]): string[] {
  const allowed = profile.models ?? [];
  return models
    .filter(m => m.enabled !== false && (allowed.includes('*') || allowed.includes(m.name ?? '')))
    .map(m => m.name ?? '')
    .sort();
}

/** A profile's budgets: "$10.00 per month, $1.00 per day", or that it has none. */
export function budget(profile: Profile): string {
  return budgetsText(profile.budgets, 'No budget limit', 'per');
}

function ProfileChoice({
  profile,
  models,
  checked,
  onChoose
}: {
  profile: Profile;
  models: Model[];
  checked: boolean;
  onChoose: () => void;
}) {
  const allowed = allowedModels(profile, models);
  const all = (profile.models ?? []).includes('*');
  const id = `profile-${profile.slug}`;
  return (
    <label className="card profile-choice" htmlFor={id}>
      <span className="profile-head">
        <input type="radio" id={id} name="profile" value={profile.slug} checked={checked} onChange={onChoose} />
        <strong>{profile.display_name}</strong>
      </span>
      {profile.description ? <span className="profile-description">{profile.description}</span> : null}
      <span className="profile-facts">
        <span>
          <span className="fact-term">Resources</span> {resources(profile)}
        </span>
        <span>
          <span className="fact-term">Budget</span> {budget(profile)}
        </span>
        <span>
          <span className="fact-term">Models</span>{' '}
          {allowed.length === 0 ? 'none' : all ? 'all enabled' : `${allowed.length} of ${models.length}`}
        </span>
      </span>
      {allowed.length ? (
        <span className="chips" role="list" aria-label={`Models of ${profile.display_name}`}>
          {allowed.map(name => (
            <span role="listitem" key={name}>
              {name}
            </span>
          ))}
        </span>
      ) : null}
    </label>
  );
}

function NewNotebook({ onStarted }: { onStarted: () => void }) {
  const profiles = useLoad(() => api<{ profiles: Profile[] }>('GET', 'profiles'));
  const models = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState('');
  const list = profiles.data?.profiles ?? [];
  const profile = chosen || (list.find(p => p.default) ?? list[0])?.slug || '';
  const start = (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    return attempt(setProblem, async () => {
      await api<Server>('POST', serverPath(name.trim()), { profile });
      setName('');
      onStarted();
    }).finally(() => setBusy(false));
  };
  return (
    <form className="card new-notebook" onSubmit={start} aria-labelledby="new-notebook-title">
      <h3 id="new-notebook-title">New notebook</h3>
      <label className="server-name">
        Server name{' '}
        <input
          value={name}
          maxLength={255}
          pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
          placeholder="empty: your default server"
          onChange={e => setName(e.target.value)}
        />
      </label>
      <fieldset className="profiles">
        <legend>Profile</legend>
        {list.map(p => (
          <ProfileChoice
            key={p.slug}
            profile={p}
            models={models.data?.models ?? []}
            checked={p.slug === profile}
            onChoose={() => setChosen(p.slug ?? '')}
          />
        ))}
      </fieldset>
      <Problem text={problem || profiles.error || models.error} />
      <button type="submit" className="primary" disabled={busy || !profile}>
        {busy ? 'Starting…' : 'Start'}
      </button>
    </form>
  );
}

export function NotebooksPage() {
  const servers = useLoad(() => api<{ servers: Server[] }>('GET', `users/${me()}/servers`));
  const profiles = useLoad(() => api<{ profiles: Profile[] }>('GET', 'profiles'));
  const [confirm, setConfirm] = useState<Server | null>(null);
  const [problem, setProblem] = useState('');
  const rows = servers.data?.servers ?? [];
  const unsettled = rows.some(s => s.status === 'pending' || s.status === 'stopping');
  // ask again while a server starts or stops; stop asking once all are settled
  useEffect(() => {
    if (!unsettled) {
      return;
    }
    const timer = window.setTimeout(servers.reload, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [servers.data, unsettled, servers.reload]);
  const profileName = (slug: string | null | undefined) =>
    profiles.data?.profiles.find(p => p.slug === slug)?.display_name ?? slug ?? '-';
  const stop = (server: Server) => {
    setConfirm(null);
    return attempt(setProblem, async () => {
      await api('DELETE', serverPath(server.name));
      servers.reload();
    });
  };
  return (
    <section aria-labelledby="notebooks-title">
      <h2 id="notebooks-title">Notebooks</h2>
      <p>Your JupyterLab servers. Each runs with a profile: its resources, the models its key may call and its budget.</p>
      <Problem text={problem || servers.error} />
      {confirm ? (
        <div className="card confirm" role="alertdialog" aria-label="Confirm stopping">
          <p>
            Stop the server <strong>{label(confirm)}</strong>? Its kernels end and its key is revoked; your files stay.
          </p>
          <button className="danger" onClick={() => stop(confirm)}>
            Stop
          </button>{' '}
          <button onClick={() => setConfirm(null)}>Cancel</button>
        </div>
      ) : null}
      <table className="card servers">
        <caption>Your servers</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Profile</th>
            <th scope="col">Started</th>
            <th scope="col">Last activity</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody aria-live="polite">
          {rows.map(s => (
            <tr key={s.name} data-server={label(s)}>
              <td>{s.name ? s.name : <em>default</em>}</td>
              <td>{profileName(s.profile)}</td>
              <td>{when(s.started)}</td>
              <td>{when(s.last_activity)}</td>
              <td>
                <span className={`badge ${s.status === 'ready' ? 'ok' : 'muted'}`}>{STATUS_TEXT[s.status]}</span>
              </td>
              <td className="actions">
                {s.status === 'ready' ? (
                  <a className="button primary" href={s.url} target="_blank" rel="noopener noreferrer">
                    Open<span className="visually-hidden"> {label(s)}</span>
                  </a>
                ) : null}{' '}
                {s.status !== 'stopping' ? (
                  <button className="danger" onClick={() => setConfirm(s)}>
                    Stop<span className="visually-hidden"> {label(s)}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
          {servers.data && rows.length === 0 ? (
            <tr>
              <td colSpan={6} className="empty">
                No server is running. Start one below.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {/* a started server shows at once (starting), then is followed until it is ready */}
      <NewNotebook onStarted={servers.reload} />
    </section>
  );
}
