import '@fontsource/inter/400.css';
import '@fontsource/inter/600.css';
import '@fontsource/plus-jakarta-sans/600.css';
import '@fontsource/plus-jakarta-sans/700.css';
import './portal.css';

import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { config } from './api';
import { AdminPage } from './pages/admin';
import { KeysPage } from './pages/keys';
import { ModelsPage } from './pages/models';
import { NotebooksPage } from './pages/notebooks';
import { SubscriptionsPage } from './pages/subscriptions';
import { UsagePage } from './pages/usage';

// the pages, in the order of the navigation; those marked admin only for holders of the
// MaaS admin scope (the API refuses the others anyway)
interface PageSpec {
  id: string;
  label: string;
  Component: () => React.JSX.Element;
  admin?: boolean;
}
const PAGES: PageSpec[] = [
  { id: 'models', label: 'Models', Component: ModelsPage },
  { id: 'notebooks', label: 'Notebooks', Component: NotebooksPage },
  { id: 'usage', label: 'Usage', Component: UsagePage },
  { id: 'subscriptions', label: 'Subscriptions', Component: SubscriptionsPage },
  { id: 'keys', label: 'API Keys', Component: KeysPage },
  { id: 'admin', label: 'Admin', Component: AdminPage, admin: true }
].filter((p: PageSpec) => !p.admin || config.admin);

function pageFromHash(): PageSpec {
  const id = window.location.hash.replace('#', '').split('/')[0];
  return PAGES.find(p => p.id === id) ?? PAGES[0];
}

function App() {
  const [page, setPage] = useState<PageSpec>(pageFromHash());
  useEffect(() => {
    const onHash = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return (
    <>
      <header className="top">
        <h1>Model-as-a-Service</h1>
        <nav aria-label="Portal">
          {PAGES.map(p => (
            <a key={p.id} href={`#${p.id}`} aria-current={page.id === p.id ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <p className="who">
          {config.user}
          {config.admin ? ' (admin)' : ''}
        </p>
      </header>
      <main>
        <page.Component />
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
