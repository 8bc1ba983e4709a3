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

import { api, me, Policy, Usage } from '../api';
import { Problem, Stat, useLoad } from '../common';
import { count, currency, PALETTE } from '../format';
import { spendByDay, tokenSplit, topModels } from '../usage';

export function UsagePage() {
  const [days, setDays] = useState(30);
  const usage = useLoad(() => api<Usage>('GET', `users/${me()}/usage?days=${days}`), [days]);
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const u = usage.data;
  const tokens = useMemo(() => (u ? tokenSplit(u) : []), [u]);
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
      <Problem text={usage.error} />
      {policy.data?.budget_usd != null ? (
        <p className="budget">
          Budget: {currency(policy.data.spend_usd ?? 0)} of {currency(policy.data.budget_usd)} this{' '}
          {policy.data.budget_period}
          <meter min={0} max={policy.data.budget_usd} value={policy.data.spend_usd ?? 0} aria-label="Budget used" />
          {policy.data.resets_at ? ` · resets ${new Date(policy.data.resets_at).toUTCString()}` : ''}
        </p>
      ) : null}
      {u && requests === 0 ? (
        <p className="empty">No requests in the last {days} days: call a model from a notebook or with a key.</p>
      ) : null}
      {u && requests > 0 ? (
        <>
          <div className="cards">
            <Stat label="Total spend" value={currency(u.total_cost_usd ?? 0)} />
            <Stat
              label="Tokens in / out"
              value={`${count(tokens[0]?.value ?? 0)} / ${count(tokens[1]?.value ?? 0)}`}
            />
            <Stat label="Requests" value={count(requests)} />
            <Stat label="Average cost per request" value={currency((u.total_cost_usd ?? 0) / requests)} />
          </div>
          <div className="charts">
            <figure className="card">
              <figcaption>Spend over time</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <AreaChart data={spendByDay(u, days)}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" />
                  <YAxis width={90} tickFormatter={(v: number) => currency(v)} />
                  <Tooltip formatter={(v: number) => currency(v)} />
                  <Area dataKey="cost" stroke={PALETTE[0]} fill={PALETTE[0]} fillOpacity={0.3} />
                </AreaChart>
              </ResponsiveContainer>
            </figure>
            <figure className="card">
              <figcaption>Spend by model (top 10)</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={topModels(u)}>
                  <XAxis dataKey="model" />
                  <YAxis width={90} tickFormatter={(v: number) => currency(v)} />
                  <Tooltip formatter={(v: number) => currency(v)} />
                  <Bar dataKey="cost" fill={PALETTE[1]} />
                </BarChart>
              </ResponsiveContainer>
            </figure>
            <figure className="card">
              <figcaption>Token distribution</figcaption>
              <ResponsiveContainer width="100%" height={220}>
                <PieChart>
                  <Pie data={tokens} dataKey="value" nameKey="name" innerRadius={50} outerRadius={80}>
                    {tokens.map((t, i) => (
                      <Cell key={t.name} fill={PALETTE[i + 2]} />
                    ))}
                  </Pie>
                  <Tooltip />
                </PieChart>
              </ResponsiveContainer>
            </figure>
          </div>
          <table className="card">
            <caption>Spend by model</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Requests</th>
                <th scope="col">Tokens in</th>
                <th scope="col">Tokens out</th>
                <th scope="col">Spend</th>
              </tr>
            </thead>
            <tbody>
              {(u.by_model ?? []).map(m => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td>{count(m.requests ?? 0)}</td>
                  <td>{count(m.prompt_tokens ?? 0)}</td>
                  <td>{count(m.completion_tokens ?? 0)}</td>
                  <td>{currency(m.cost_usd ?? 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
