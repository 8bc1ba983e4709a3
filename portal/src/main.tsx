import '@fontsource/inter/400.css';
import '@fontsource/inter/600.css';
import '@fontsource/plus-jakarta-sans/600.css';
import '@fontsource/plus-jakarta-sans/700.css';
import './portal.css';

import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { config, signOut } from './api';
import { useLoad } from './common';
import { AdminPage } from './pages/admin';
import { KeysPage } from './pages/keys';
import { ModelsPage } from './pages/models';
import { NotebooksPage } from './pages/notebooks';
import { PlaygroundPage } from './pages/playground';
import { SubscriptionsPage } from './pages/subscriptions';
import { loadTeams, TeamsPage } from './pages/teams';
import { UsagePage } from './pages/usage';

// the pages, in the order of the navigation; those marked admin only for holders of the
// MaaS admin scope, those marked teams only for those who run a team (the API refuses
// the others anyway)
interface PageSpec {
  id: string;
  label: string;
  Component: () => React.JSX.Element;
  admin?: boolean;
  teams?: boolean;
}
const PAGES: PageSpec[] = [
  { id: 'models', label: 'Models', Component: ModelsPage },
  { id: 'notebooks', label: 'Notebooks', Component: NotebooksPage },
  { id: 'chat', label: 'Chat', Component: PlaygroundPage },
  { id: 'usage', label: 'Usage', Component: UsagePage },
  { id: 'subscriptions', label: 'Subscriptions', Component: SubscriptionsPage },
  { id: 'keys', label: 'API Keys', Component: KeysPage },
  { id: 'teams', label: 'Teams', Component: TeamsPage, teams: true },
  { id: 'admin', label: 'Admin', Component: AdminPage, admin: true }
].filter((p: PageSpec) => !p.admin || config.admin);

const pageId = () => window.location.hash.replace('#', '').split('/')[0];

function App() {
  const [id, setId] = useState(pageId());
  useEffect(() => {
    const onHash = () => setId(pageId());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  // the Teams page is there when the API names a team the user runs (it refuses no one)
  const teams = useLoad(() => loadTeams().catch(() => []));
  const runsTeams = (teams.data ?? []).length > 0;
  const pages = PAGES.filter(p => !p.teams || runsTeams);
  const waiting = !teams.data && PAGES.some(p => p.teams && p.id === id);
  const page = pages.find(p => p.id === id) ?? pages[0];
  return (
    <>
      <header className="top">
        <h1>Model-as-a-Service</h1>
        <nav aria-label="Portal">
          {pages.map(p => (
            <a key={p.id} href={`#${p.id}`} aria-current={page.id === p.id ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <p className="who">
          {config.user}
          {config.admin ? ' (admin)' : ''}{' '}
          <button type="button" className="link sign-out" onClick={() => void signOut()}>
            Sign out
          </button>
        </p>
      </header>
      <main>{waiting ? null : <page.Component />}</main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
