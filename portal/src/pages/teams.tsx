// Teams: for a team's admins (and MaaS admins), the teams they run, one at a time
// (#teams/<group>): its settings (models, budgets per member and caps per window, term,
// alert share), its roster (each member's spend, adjusted budgets, keys revoked), its
// spend by day and model, and its audit log. The API decides who sees which team; the
// page shows what it answers, its refusals included.
import React, { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { api, config, Model } from '../api';
import { budgetFields, budgetsOf, budgetsText } from '../budgets';
import { Chart, Problem, useLoad } from '../common';
import { AuditEntry, AuditTable } from '../console/audit';
import { BudgetsEditor } from '../console/budgets';
import { enc, ModelPicker, TextArea, TextField, useFields, when } from '../console/fields';
import { AdminCollection, Column, EditorCard, RowAction } from '../console/scaffold';
import { count, money, PALETTE } from '../format';
import {
  adjustmentText,
  hasTerm,
  modelChoices,
  notebooksText,
  QUARTER_HOUR,
  revokedText,
  RosterMember,
  settingsBody,
  settingsForm,
  spendLines,
  Team,
  TeamRoster,
  TeamUsage,
  teamSpend,
  teamSpendSummary,
  teamWindows,
  termText
} from '../teams';
import { moneyAxis } from '../usage';

const DAYS = 30;

function teamFromHash(): string {
  return decodeURIComponent(window.location.hash.replace('#', '').split('/')[1] ?? '');
}

/** The teams the signed-in user runs (every team for a MaaS admin; none for most). */
export function loadTeams(): Promise<Team[]> {
  return api<{ teams: Team[] }>('GET', 'teams').then(d => d.teams);
}

/** The settings of ``team``, saved with PATCH; Cancel puts back what is saved. */
function Settings({ team, onSaved }: { team: Team; onSaved: () => void }) {
  const [f, set, setAll] = useFields(settingsForm(team));
  const catalog = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const choices = modelChoices(
    team.available_models,
    (catalog.data?.models ?? []).map(m => m.name ?? ''),
    team.models
  );
  const windows = teamWindows(hasTerm(f));
  const save = async () => {
    await api('PATCH', `teams/${enc(team.name ?? '')}`, settingsBody(f));
    onSaved();
  };
  return (
    <EditorCard
      title={`Settings of ${team.name}`}
      intro={
        <p className="hint">
          What every member of the hub group {team.name} gets from the team: the models ticked, a budget per member for
          each window filled, and at most the cap for each window all together. The term is in UTC, on a quarter hour;
          outside it the team grants nothing. Members are warned at the alert share of a budget.
        </p>
      }
      save={save}
      onCancel={() => setAll(settingsForm(team))}
    >
      <ModelPicker
        legend={`Models the members may use (among those made available: ${(team.available_models ?? []).join(', ') || 'none'})`}
        names={choices.names}
        all={choices.all}
        value={f.models}
        onChange={set('models')}
      />
      <div className="fields">
        <TextField
          label="Term starts (UTC)"
          type="datetime-local"
          step={QUARTER_HOUR}
          value={f.starts_at}
          onChange={set('starts_at')}
        />
        <TextField
          label="Term ends (UTC)"
          type="datetime-local"
          step={QUARTER_HOUR}
          value={f.ends_at}
          onChange={set('ends_at')}
        />
        <TextField
          label="Alert at (% of a budget)"
          type="number"
          min="1"
          max="100"
          step="1"
          value={f.alert_percent}
          onChange={set('alert_percent')}
        />
      </div>
      <BudgetsEditor
        legend="Budget per member (empty: none over that window; a term's needs the term)"
        windows={windows}
        value={f.budgets}
        onChange={set('budgets')}
      />
      <BudgetsEditor
        legend="Caps on the members' total (empty: none over that window)"
        windows={windows}
        noun="cap"
        value={f.caps}
        onChange={set('caps')}
      />
    </EditorCard>
  );
}

/** A member's own budgets in the team (the team's for the windows left empty), within
 * the team's caps, and why. */
function AdjustEditor({ team, member, onDone }: { team: Team; member: RosterMember; onDone: () => void }) {
  const windows = teamWindows(hasTerm(team));
  const [budgets, setBudgets] = useState(budgetFields(member.adjustment?.budgets, windows));
  const [note, setNote] = useState(member.adjustment?.note ?? '');
  const save = async () => {
    await api('PUT', `teams/${enc(team.name ?? '')}/members/${enc(member.user ?? '')}`, {
      budgets: budgetsOf(budgets),
      note
    });
    onDone();
  };
  return (
    <EditorCard
      title={`Adjust the budgets of ${member.user}`}
      intro={
        <p className="hint">
          {member.user}'s own budgets in {team.name}, for the windows filled; the team's ({budgetsText(team.budgets)})
          for the others. Each stays within the team's cap for its window ({budgetsText(team.caps)}).
        </p>
      }
      save={save}
      onCancel={onDone}
    >
      <BudgetsEditor
        legend="Their budgets (empty: the team's)"
        windows={windows}
        value={budgets}
        onChange={setBudgets}
      />
      <TextArea label="Note (why)" value={note} onChange={setNote} />
    </EditorCard>
  );
}

function Spend({ member }: { member: RosterMember }) {
  const lines = spendLines(member);
  if (!lines.length) {
    return <>no budget</>;
  }
  return (
    <ul className="spend">
      {lines.map(l => (
        <li key={l.window}>
          <meter min={0} max={l.usd} value={l.spent} aria-label={`${member.user}'s ${l.label.toLowerCase()} spend`} />{' '}
          {l.label}: {l.text}
        </li>
      ))}
    </ul>
  );
}

const COLUMNS: Column<RosterMember>[] = [
  { header: 'Member', cell: m => m.user, rowHeader: true },
  { header: 'Spend of budget', cell: m => <Spend member={m} /> },
  { header: 'Requests', cell: m => count(m.requests ?? 0) },
  { header: 'Last use', cell: m => when(m.last_used) },
  { header: 'Top notebooks', cell: notebooksText },
  { header: 'Adjustment', cell: m => adjustmentText(m.adjustment) }
];

function Roster({ team, version, onChange }: { team: Team; version: number; onChange: () => void }) {
  const group = enc(team.name ?? '');
  const actions: RowAction<RosterMember>[] = [
    {
      label: 'Remove adjustment',
      name: m => `Remove adjustment of ${m.user}`,
      when: m => !!m.adjustment,
      run: m => api('DELETE', `teams/${group}/members/${enc(m.user ?? '')}`)
    },
    {
      label: 'Revoke keys',
      name: m => `Revoke keys of ${m.user}`,
      danger: true,
      confirm: {
        title: 'Confirm revocation',
        sentence: m => (
          <>
            Revoke every key of <strong>{m.user}</strong>? Programs using their personal keys stop working at once;
            their servers get new keys when they start again.
          </>
        )
      },
      run: m =>
        api<{ revoked: number }>('DELETE', `teams/${group}/members/${enc(m.user ?? '')}/keys`).then(r =>
          revokedText(m.user ?? '', r.revoked)
        )
    }
  ];
  return (
    <AdminCollection
      title="Roster"
      load={() => api<TeamRoster>('GET', `teams/${group}/members`).then(d => d.members ?? [])}
      deps={[team.name, version]}
      rowKey={m => m.user ?? ''}
      columns={COLUMNS}
      caption={rows => `Members of ${team.name}, their spend since each window began (${rows.length})`}
      empty="The hub group has no member yet."
      actions={actions}
      onChange={onChange}
      editor={{
        label: 'Adjust budgets',
        name: m => m.user ?? '',
        form: (m, done) => (m ? <AdjustEditor team={team} member={m} onDone={done} /> : null)
      }}
      filters={
        <p>
          <a className="button" href={`${config.prefix}api/v1/teams/${group}/members?format=csv`} download>
            Export CSV
          </a>
        </p>
      }
    />
  );
}

/** The team's spend by day over the last 30 days, a bar a day stacked by model. */
function SpendChart({ team, version }: { team: Team; version: number }) {
  const usage = useLoad(
    () => api<TeamUsage>('GET', `teams/${enc(team.name ?? '')}/usage?days=${DAYS}`),
    [team.name, version]
  );
  if (!usage.data) {
    return <Problem text={usage.error} />;
  }
  const { rows, models } = teamSpend(usage.data, DAYS);
  const max = Math.max(0, ...rows.map(r => models.reduce((sum, m) => sum + Number(r[m] ?? 0), 0)));
  return (
    <Chart caption={`Spend by model over the last ${DAYS} days`} summary={teamSpendSummary(usage.data, DAYS)}>
      {models.length ? (
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={rows} margin={{ top: 10, right: 5 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis width={90} {...moneyAxis(max)} />
            <Tooltip formatter={(v: number) => money(v)} />
            {models.map((m, i) => (
              <Bar key={m} dataKey={m} stackId="spend" fill={PALETTE[i % PALETTE.length]} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      ) : (
        <p className="empty">No spend yet.</p>
      )}
    </Chart>
  );
}

function Audit({ team, version }: { team: Team; version: number }) {
  const audit = useLoad(
    () => api<{ entries: AuditEntry[] }>('GET', `teams/${enc(team.name ?? '')}/audit`),
    [team.name, version]
  );
  return (
    <>
      <h3>Changes</h3>
      <Problem text={audit.error} />
      <AuditTable
        caption={`Changes to ${team.name} and its members' budgets, newest first`}
        entries={audit.data?.entries ?? null}
        empty="No change yet."
      />
    </>
  );
}

function TeamView({ team, onSaved }: { team: Team; onSaved: () => void }) {
  // every change (settings, an adjustment, keys revoked) shows in the roster, the chart
  // and the audit log
  const [version, setVersion] = useState(0);
  const changed = () => setVersion(v => v + 1);
  return (
    <>
      <div className="toolbar">
        <h3>Team {team.name}</h3>
        {team.term_state ? (
          <span className={`badge ${team.term_state === 'during' ? 'ok' : 'muted'}`}>term: {team.term_state}</span>
        ) : null}
      </div>
      <p>{termText(team)}</p>
      {team.idle_because ? <p className="problem">{team.idle_because}</p> : null}
      <Settings
        key={JSON.stringify(team)}
        team={team}
        onSaved={() => {
          onSaved();
          changed();
        }}
      />
      <Roster team={team} version={version} onChange={changed} />
      <SpendChart team={team} version={version} />
      <Audit team={team} version={version} />
    </>
  );
}

export function TeamsPage() {
  const teams = useLoad(loadTeams);
  const [chosen, setChosen] = useState(teamFromHash());
  useEffect(() => {
    const onHash = () => setChosen(teamFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const list = teams.data ?? [];
  const team = list.find(t => t.name === chosen) ?? list[0];
  return (
    <section aria-labelledby="teams-title" className="console teams">
      <h2 id="teams-title">Teams</h2>
      {list.length > 1 ? (
        <nav aria-label="Your teams" className="team-tabs">
          {list.map(t => (
            <a key={t.name} href={`#teams/${enc(t.name ?? '')}`} aria-current={t === team ? 'page' : undefined}>
              {t.name}
            </a>
          ))}
        </nav>
      ) : null}
      <Problem text={teams.error} />
      {teams.data && !list.length ? <p className="empty">You run no team.</p> : null}
      {team ? <TeamView key={team.name} team={team} onSaved={teams.reload} /> : null}
    </section>
  );
}
