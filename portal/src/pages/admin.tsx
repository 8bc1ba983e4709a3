// The admin console (holders of the MaaS admin scope; the API refuses anyone else):
// one tab a concern, each its own module under admin/, the tab in the URL (#admin/<tab>).
import React, { useEffect, useState } from 'react';

import { AuditTab } from './admin/audit';
import { CatalogTab } from './admin/catalog';
import { ChargebackTab } from './admin/chargeback';
import { KeysTab } from './admin/keys';
import { OverridesTab } from './admin/overrides';
import { PolicyTab } from './admin/policy';
import { ProfilesTab } from './admin/profiles';
import { TeamsTab } from './admin/teams';

const TABS = [
  { id: 'catalog', label: 'Catalog', Component: CatalogTab },
  { id: 'profiles', label: 'Profiles', Component: ProfilesTab },
  { id: 'overrides', label: 'Overrides', Component: OverridesTab },
  { id: 'policy', label: 'Policy', Component: PolicyTab },
  { id: 'keys', label: 'Keys', Component: KeysTab },
  { id: 'teams', label: 'Teams', Component: TeamsTab },
  { id: 'audit', label: 'Audit', Component: AuditTab },
  { id: 'chargeback', label: 'Chargeback', Component: ChargebackTab }
];

function tabFromHash() {
  const sub = window.location.hash.replace('#', '').split('/')[1];
  return TABS.find(t => t.id === sub) ?? TABS[0];
}

export function AdminPage() {
  const [tab, setTab] = useState(tabFromHash());
  useEffect(() => {
    const onHash = () => setTab(tabFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return (
    <section aria-labelledby="admin-title" className="admin console">
      <h2 id="admin-title">Admin</h2>
      <nav aria-label="Admin sections" className="admin-tabs">
        {TABS.map(t => (
          <a key={t.id} href={`#admin/${t.id}`} aria-current={t.id === tab.id ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      <tab.Component key={tab.id} />
    </section>
  );
}
