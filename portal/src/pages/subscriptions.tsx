import React, { useMemo, useState } from 'react';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import { api, me, OwnKey, Policy, Profile, Usage } from '../api';
import { Chart, Problem, Stat, useLoad } from '../common';
import { count, money, PALETTE } from '../format';
import { keyLabel, moneyAxis, spendByDay, spendSummary, subscriptions } from '../usage';

const DAYS = 30;

/** One model: its spend over the last 30 days and its last 10 requests. */
function ModelDrill({ model, keys, onClose }: { model: string; keys: OwnKey[]; onClose: () => void }) {
  const usage = useLoad(
    () => api<Usage>('GET', `users/${me()}/usage?days=${DAYS}&model=${encodeURIComponent(model)}`),
    [model]
  );
  const u = usage.data;
  const byDay = u ? spendByDay(u, DAYS) : [];
  const names = new Map(keys.map(k => [k.id, keyLabel(k)]));
  return (
    <section className="card detail" aria-label={`${model} subscription`}>
      <header>
        <h3>{model}: the last {DAYS} days</h3>
        <button className="link" onClick={onClose}>
          Back to all subscriptions
        </button>
      </header>
      <Problem text={usage.error} />
      {u ? (
        <>
          <div className="cards">
            <Stat label="Spend" value={money(u.total_cost_usd ?? 0)} />
            <Stat label="Requests" value={count(u.total_requests ?? 0)} />
            <Stat
              label="Tokens in / out"
              value={`${count(u.total_prompt_tokens ?? 0)} / ${count(u.total_completion_tokens ?? 0)}`}
            />
          </div>
          <Chart caption="Spend per day" summary={spendSummary(byDay)}>
            <ResponsiveContainer width="100%" height={200}>
              <AreaChart data={byDay} margin={{ top: 10, right: 5 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" />
                <YAxis width={90} {...moneyAxis(Math.max(0, ...byDay.map(d => d.cost)))} />
                <Tooltip formatter={(v: number) => money(v)} />
                <Area dataKey="cost" stroke={PALETTE[6]} fill={PALETTE[6]} fillOpacity={0.3} />
              </AreaChart>
            </ResponsiveContainer>
          </Chart>
          <table className="card" data-testid="last-requests">
            <caption>The last 10 requests</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Key</th>
                <th scope="col">Tokens in</th>
                <th scope="col">Tokens out</th>
                <th scope="col">Cost</th>
                <th scope="col">Latency</th>
              </tr>
            </thead>
            <tbody>
              {(u.recent ?? []).slice(0, 10).map((r, i) => (
                <tr key={`${r.ts}-${i}`}>
                  <td>{r.ts?.slice(0, 19).replace('T', ' ')}</td>
                  <td>{names.get(r.key_id ?? '') ?? keyLabel({ key_id: r.key_id, server_name: r.server_name })}</td>
                  <td>{count(r.prompt_tokens ?? 0)}</td>
                  <td>{count(r.completion_tokens ?? 0)}</td>
                  <td>{money(r.cost_usd ?? 0)}</td>
                  <td>{r.latency_ms != null ? `${Math.round(r.latency_ms)} ms` : '-'}</td>
                </tr>
              ))}
              {(u.recent ?? []).length === 0 ? (
                <tr>
                  <td colSpan={6} className="empty">
                    No request to {model} in the last {DAYS} days.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

/** Per model I can use: which of my keys and profiles reach it, and its spend. */
export function SubscriptionsPage() {
  const policy = useLoad(() => api<Policy>('GET', `users/${me()}/policy`));
  const keys = useLoad(() => api<{ keys: OwnKey[] }>('GET', `users/${me()}/keys`));
  const profiles = useLoad(() => api<{ profiles: Profile[] }>('GET', 'profiles'));
  const usage = useLoad(() => api<Usage>('GET', `users/${me()}/usage?days=${DAYS}`));
  const [open, setOpen] = useState<string | null>(null);
  const rows = useMemo(
    () =>
      subscriptions(
        policy.data?.allowed_models ?? [],
        keys.data?.keys ?? [],
        profiles.data?.profiles ?? [],
        usage.data
      ),
    [policy.data, keys.data, profiles.data, usage.data]
  );
  return (
    <section aria-labelledby="subscriptions-title">
      <h2 id="subscriptions-title">Subscriptions</h2>
      <p>The models you can use, which of your keys and which notebook profiles reach each, and your spend.</p>
      <Problem text={policy.error || keys.error || profiles.error || usage.error} />
      {open ? <ModelDrill model={open} keys={keys.data?.keys ?? []} onClose={() => setOpen(null)} /> : null}
      <table className="card" data-testid="subscriptions">
        <caption>Your models (spend over the last {DAYS} days)</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Your keys</th>
            <th scope="col">Profiles</th>
            <th scope="col">Requests</th>
            <th scope="col">Spend</th>
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(s => (
            <tr key={s.model}>
              <th scope="row">{s.model}</th>
              <td>{s.keys.join(', ') || '-'}</td>
              <td>{s.profiles.join(', ') || '-'}</td>
              <td>{count(s.requests)}</td>
              <td>{money(s.spend)}</td>
              <td>
                <button className="link" onClick={() => setOpen(s.model)} aria-label={`Details of ${s.model}`}>
                  Details
                </button>
              </td>
            </tr>
          ))}
          {policy.data && rows.length === 0 ? (
            <tr>
              <td colSpan={6} className="empty">
                Your profile allows no model yet: ask a MaaS admin.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
