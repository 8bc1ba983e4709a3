import React, { useMemo, useState } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis
} from 'recharts';

import { api, config, me, Model, Policy, Usage } from '../api';
import { thisWindow } from '../budgets';
import { BudgetTable, Chart, Problem, Stat, useLoad } from '../common';
import { count, money, PALETTE, perMillion } from '../format';
import {
  budgetShare,
  modelSpendSummary,
  moneyAxis,
  spendByDay,
  spendSummary,
  tokenDonut,
  tokenSplit,
  topKeys,
  topModels
} from '../usage';

interface SpendRow {
  id: string;
  label: string;
  requests?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  cost_usd?: number;
}

/** Requests, tokens and spend per model, key or the like: one row each. */
function SpendTable({ caption, what, rows }: { caption: string; what: string; rows: SpendRow[] }) {
  return (
    <table className="card">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{what}</th>
          <th scope="col">Requests</th>
          <th scope="col">Tokens in</th>
          <th scope="col">Tokens out</th>
          <th scope="col">Spend</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(r => (
          <tr key={r.id}>
            <td>{r.label}</td>
            <td>{count(r.requests ?? 0)}</td>
            <td>{count(r.prompt_tokens ?? 0)}</td>
            <td>{count(r.completion_tokens ?? 0)}</td>
            <td>{money(r.cost_usd ?? 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The budget that binds (the one most spent): a gauge, the spend and the instant it
 * resets; then every budget that applies, each with its spend. */
function Budget({ policy }: { policy: Policy }) {
  if (policy.budget_usd == null) {
    return <p className="budget">No budget limits your spend.</p>;
  }
  const budgets = policy.budgets ?? [];
  const share = budgetShare(policy.spend_usd ?? 0, policy.budget_usd);
  const gauge = [
    { name: 'spent', value: share },
    { name: 'left', value: 1 - share }
  ];
  return (
    <>
      <figure className="card budget" aria-label="Budget">
        <PieChart width={160} height={90} aria-hidden="true">
          {/* rootTabIndex: recharts makes a pie focusable, which a hidden picture must not be */}
          <Pie
            data={gauge}
            dataKey="value"
            startAngle={180}
            endAngle={0}
            cy={80}
            innerRadius={50}
            outerRadius={75}
            rootTabIndex={-1}
          >
            <Cell fill={share >= 0.8 ? PALETTE[5] : PALETTE[1]} />
            <Cell fill="var(--border)" />
          </Pie>
        </PieChart>
        <figcaption>
          <meter min={0} max={policy.budget_usd} value={policy.spend_usd ?? 0} aria-label="Budget used" />{' '}
          {money(policy.spend_usd ?? 0)} of {money(policy.budget_usd)} {thisWindow(policy.budget_period)} (
          {Math.round(share * 100)} %)
          {policy.resets_at ? <> · resets {new Date(policy.resets_at).toUTCString()}</> : null}
        </figcaption>
      </figure>
      {budgets.length ? (
        <BudgetTable caption="Your budgets (the one most spent binds)" budgets={budgets} binding={policy.binding} />
      ) : null}
    </>
  );
}

export function UsagePage() {
  const [days, setDays] = useState(30);
  const usage = useLoad(() => api<Usage>('GET', `users/${me()}/usage?days=${days}`), [days]);
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const models = useLoad(() => api<{ models: Model[] }>('GET', 'models'));
  const u = usage.data;
  const tokens = useMemo(() => (u ? tokenSplit(u) : []), [u]);
  const donut = tokenDonut(tokens);
  const byDay = useMemo(() => (u ? spendByDay(u, days) : []), [u, days]);
  const byModel = useMemo(() => (u ? topModels(u) : []), [u]);
  const requests = u?.total_requests ?? 0;
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <div role="tablist" aria-label="Range" className="tabs small">
        {[7, 30, 90].map(d => (
          <button key={d} role="tab" aria-selected={days === d} onClick={() => setDays(d)}>
            {d} days
          </button>
        ))}
      </div>
      <a className="button" href={`${config.prefix}api/v1/users/${me()}/usage?days=${days}&format=csv`} download>
        Download CSV
      </a>
      <Problem text={usage.error || policy.error || models.error} />
      {policy.data ? <Budget policy={policy.data} /> : null}
      {u && requests === 0 ? (
        <p className="empty">No requests in the last {days} days: call a model from a notebook or with a key.</p>
      ) : null}
      {u && requests > 0 ? (
        <>
          <div className="cards">
            <Stat label="Total spend" value={money(u.total_cost_usd ?? 0)} />
            <Stat
              label="Tokens in / out"
              value={`${count(tokens[0]?.value ?? 0)} / ${count(tokens[1]?.value ?? 0)}`}
            />
            <Stat label="Requests" value={count(requests)} />
            <Stat label="Average cost per request" value={money((u.total_cost_usd ?? 0) / requests)} />
          </div>
          <div className="charts">
            <Chart caption="Spend over time" summary={spendSummary(byDay)}>
              <ResponsiveContainer width="100%" height={220}>
                <AreaChart data={byDay} margin={{ top: 10, right: 5 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" />
                  <YAxis width={90} {...moneyAxis(Math.max(0, ...byDay.map(d => d.cost)))} />
                  <Tooltip formatter={(v: number) => money(v)} />
                  <Area dataKey="cost" stroke={PALETTE[0]} fill={PALETTE[0]} fillOpacity={0.3} />
                </AreaChart>
              </ResponsiveContainer>
            </Chart>
            <Chart caption="Spend by model (top 10)" summary={modelSpendSummary(byModel)}>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={byModel} margin={{ top: 10, right: 5 }}>
                  <XAxis dataKey="model" />
                  <YAxis width={90} {...moneyAxis(Math.max(0, ...byModel.map(m => m.cost)))} />
                  <Tooltip formatter={(v: number) => money(v)} />
                  <Bar dataKey="cost" fill={PALETTE[1]} />
                </BarChart>
              </ResponsiveContainer>
            </Chart>
            <Chart caption="Token distribution" summary={donut.summary}>
              {donut.slices.length ? (
                <ResponsiveContainer width="100%" height={220}>
                  <PieChart>
                    <Pie
                      data={donut.slices}
                      dataKey="value"
                      nameKey="name"
                      innerRadius={50}
                      outerRadius={80}
                      rootTabIndex={-1}
                    >
                      {donut.slices.map((t, i) => (
                        <Cell key={t.name} fill={PALETTE[i + 2]} />
                      ))}
                    </Pie>
                    <Tooltip />
                  </PieChart>
                </ResponsiveContainer>
              ) : (
                <p className="empty">No tokens yet.</p>
              )}
            </Chart>
          </div>
          <SpendTable
            caption="Spend by model"
            what="Model"
            rows={(u.by_model ?? []).map(m => ({ ...m, id: m.model ?? '', label: m.model ?? '' }))}
          />
          <SpendTable
            caption="Spend by key (top 10)"
            what="Key"
            rows={topKeys(u).map(k => ({ ...k, id: k.key_id ?? k.label }))}
          />
          {(u.by_notebook ?? []).length ? (
            <table className="card" data-testid="by-notebook">
              <caption>Spend by notebook (top 10)</caption>
              <thead>
                <tr>
                  <th scope="col">Notebook</th>
                  <th scope="col">Server</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Spend</th>
                </tr>
              </thead>
              <tbody>
                {(u.by_notebook ?? []).slice(0, 10).map(n => (
                  <tr key={`${n.server_name}/${n.notebook_path}`}>
                    <td>{n.notebook_path ?? '(no notebook)'}</td>
                    <td>{n.server_name || '(default)'}</td>
                    <td>{count(n.requests ?? 0)}</td>
                    <td>{money(n.cost_usd ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <table className="card">
            <caption>Model pricing</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Input / 1M</th>
                <th scope="col">Output / 1M</th>
              </tr>
            </thead>
            <tbody>
              {(models.data?.models ?? [])
                .filter(m => (u.by_model ?? []).some(b => b.model === m.name))
                .map(m => (
                  <tr key={m.name}>
                    <td>{m.name}</td>
                    <td>{perMillion(m.input_cost_per_token)}</td>
                    <td>{perMillion(m.output_cost_per_token)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
