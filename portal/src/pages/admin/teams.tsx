// Teams: which hub groups are teams, run by their own admins, and the models each team's
// admins may choose among; make a group a team, change its models, end it. What a team's
// admins set is theirs to set (the Teams page).
import React from 'react';

import { api } from '../../api';
import { budgetsText } from '../../budgets';
import { enc, ModelPicker, TextField, useFields } from '../../console/fields';
import { AdminCollection, Column, EditorCard, RowAction } from '../../console/scaffold';
import { Team, termText } from '../../teams';
import { loadTeams } from '../teams';
import { useCatalogNames } from './shared';

function TeamEditor({ team, onDone }: { team: Team | null; onDone: () => void }) {
  const [f, set] = useFields({ group: team?.name ?? '', available_models: team?.available_models ?? [] });
  const names = useCatalogNames();
  const save = async () => {
    await api('PUT', `admin/teams/${enc(f.group.trim())}`, { available_models: f.available_models });
    onDone();
  };
  return (
    <EditorCard
      title={team ? `Edit team ${team.name}` : 'Make a group a team'}
      intro={
        <p className="hint">
          Who runs a team is the hub's to say: a hub role holding{' '}
          <code>custom:maas:team-admin!group=&lt;group&gt;</code> (the hub configuration's <code>teams</code> gives one
          to the hub group <code>&lt;group&gt;-admins</code>). They choose among the models made available here, and set
          the members' budgets and term. A model taken away here leaves the team's choice too.
        </p>
      }
      save={save}
      onCancel={onDone}
    >
      <div className="fields">
        <TextField label="Hub group" required value={f.group} onChange={set('group')} readOnly={!!team} />
      </div>
      <ModelPicker
        legend="Models its admins may choose among"
        names={names}
        value={f.available_models}
        onChange={set('available_models')}
      />
    </EditorCard>
  );
}

const COLUMNS: Column<Team>[] = [
  { header: 'Team', cell: t => <a href={`#teams/${enc(t.name ?? '')}`}>{t.name}</a>, rowHeader: true },
  { header: 'Available models', cell: t => (t.available_models ?? []).join(', ') || 'none' },
  { header: 'Models chosen', cell: t => (t.models ?? []).join(', ') || 'none' },
  { header: 'Budget per member', cell: t => budgetsText(t.budgets) },
  { header: 'Caps', cell: t => budgetsText(t.caps) },
  { header: 'Term', cell: termText }
];

const ACTIONS: RowAction<Team>[] = [
  {
    label: 'Remove',
    name: t => `Remove team ${t.name}`,
    danger: true,
    confirm: {
      title: 'Confirm removal',
      sentence: t => (
        <>
          Remove the team <strong>{t.name}</strong>? Its models, budgets, term and its members' own budgets go; the hub
          group stays, and its members keep what their profiles and overrides give them.
        </>
      )
    },
    run: t => api('DELETE', `admin/teams/${enc(t.name ?? '')}`)
  }
];

export function TeamsTab() {
  return (
    <AdminCollection
      title="Teams"
      load={loadTeams}
      rowKey={t => t.name ?? ''}
      columns={COLUMNS}
      caption="Hub groups run as teams"
      empty="No team yet: make a hub group one."
      actions={ACTIONS}
      editor={{
        add: 'Make a group a team',
        name: t => t.name ?? '',
        form: (t, done) => <TeamEditor team={t} onDone={done} />
      }}
    />
  );
}
