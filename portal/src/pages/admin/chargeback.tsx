// Chargeback: requests, tokens and spend per user, hub group, profile or model over a
// period, and the same as CSV (the API's own export, spreadsheet-safe).
import React, { useMemo, useState } from 'react';

import { api, config } from '../../api';
import { Problem, useLoad } from '../../common';
import { count, money } from '../../format';
import { Choice, when } from '../../console/fields';
import { Chargeback, useChoices } from './shared';

const PERIODS: [string, string][] = [
  ['7', 'Last 7 days'],
  ['30', 'Last 30 days'],
  ['90', 'Last 90 days'],
  ['month', 'This month'],
  ['last-month', 'Last month']
];

/** The period's [start, end) as the API takes them (no end: until now). */
function bounds(period: string, now: Date): { start: string; end?: string } {
  const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 10);
  if (period === 'month') {
    return { start: month(0) };
  }
  if (period === 'last-month') {
    return { start: month(-1), end: month(0) };
  }
  return { start: new Date(now.getTime() - Number(period) * 86400e3).toISOString() };
}

export function ChargebackTab() {
  const dimensions = useChoices('Chargeback', 'by');
  const [by, setBy] = useState('user');
  const [period, setPeriod] = useState('30');
  const query = useMemo(() => new URLSearchParams({ by, ...bounds(period, new Date()) }).toString(), [by, period]);
  const report = useLoad(() => api<Chargeback>('GET', `admin/chargeback?${query}`), [query]);
  const rows = (report.data?.rows ?? []) as (Record<string, string | number>)[];
  const total = rows.reduce((sum, r) => sum + Number(r.cost_usd ?? 0), 0);
  return (
    <>
      <h3>Chargeback</h3>
      <div className="card toolbar">
        <Choice
          label="By"
          value={by}
          onChange={setBy}
          options={(dimensions.length ? dimensions : [by]).map((d): [string, string] => [d, d])}
        />
        <Choice label="Period" value={period} onChange={setPeriod} options={PERIODS} />
        <a className="button" href={`${config.prefix}api/v1/admin/chargeback?${query}&format=csv`} download>
          Export CSV
        </a>
      </div>
      <Problem text={report.error} />
      <table className="card">
        <caption>
          Spend by {by}
          {report.data ? `, ${when(report.data.start)} to ${when(report.data.end)}` : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">{by[0].toUpperCase() + by.slice(1)}</th>
            <th scope="col">Requests</th>
            <th scope="col">Prompt tokens</th>
            <th scope="col">Completion tokens</th>
            <th scope="col">Spend</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(r => (
            <tr key={String(r[by])}>
              <th scope="row">{r[by]}</th>
              <td>{count(Number(r.requests))}</td>
              <td>{count(Number(r.prompt_tokens))}</td>
              <td>{count(Number(r.completion_tokens))}</td>
              <td>{money(Number(r.cost_usd))}</td>
            </tr>
          ))}
          {report.data && rows.length === 0 ? (
            <tr>
              <td colSpan={5} className="empty">
                No usage in this period.
              </td>
            </tr>
          ) : null}
        </tbody>
        {rows.length ? (
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td>{count(rows.reduce((sum, r) => sum + Number(r.requests), 0))}</td>
              <td>{count(rows.reduce((sum, r) => sum + Number(r.prompt_tokens), 0))}</td>
              <td>{count(rows.reduce((sum, r) => sum + Number(r.completion_tokens), 0))}</td>
              <td>{money(total)}</td>
            </tr>
          </tfoot>
        ) : null}
      </table>
    </>
  );
}
