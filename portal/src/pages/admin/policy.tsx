// Policy: a user's effective policy (profile, then their groups' overrides, then their
// own, then their teams' limits), which layer set what, and each budget's spend.
import React, { useState } from 'react';

import { api } from '../../api';
import { attempt, BudgetTable, Facts, Problem } from '../../common';
import { money } from '../../format';
import { Choice, enc, TextField, when } from '../../console/fields';
import { Policy, Profile } from './shared';

export function PolicyTab() {
  const [user, setUser] = useState('');
  const [profile, setProfile] = useState('');
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [problem, setProblem] = useState('');
  React.useEffect(() => {
    api<{ profiles: Profile[] }>('GET', 'admin/profiles')
      .then(d => setProfiles(d.profiles))
      .catch(() => setProfiles([]));
  }, []);
  const look = (e: React.FormEvent) => {
    e.preventDefault();
    setPolicy(null);
    return attempt(setProblem, async () => {
      const query = profile ? `?profile=${enc(profile)}` : '';
      setPolicy(await api<Policy>('GET', `admin/policy/${enc(user.trim())}${query}`));
    });
  };
  const budget =
    policy?.budget_usd === null || policy?.budget_usd === undefined
      ? 'none'
      : `${money(policy.budget_usd)} / ${policy.budget_period}`;
  return (
    <>
      <h3>Effective policy</h3>
      <form className="card toolbar" onSubmit={look}>
        <TextField label="User" required value={user} onChange={setUser} />
        <Choice
          label="Profile"
          value={profile}
          onChange={setProfile}
          options={[['', 'the default profile'], ...profiles.map((p): [string, string] => [p.slug ?? '', p.display_name ?? ''])]}
        />
        <button type="submit" className="primary">
          Look up
        </button>
      </form>
      <Problem text={problem} />
      {policy ? (
        <section className="card" aria-label={`Policy of ${policy.user}`}>
          <h4>
            {policy.user} with {policy.profile ?? 'no profile'}
          </h4>
          <Facts
            facts={[
              ['Groups', (policy.groups ?? []).join(', ') || 'none'],
              ['Binding budget', budget],
              ['Spent this period', policy.spend_usd === undefined ? '-' : money(policy.spend_usd)],
              ['Resets', when(policy.resets_at)],
              ['Requests / min', policy.rpm_limit ? String(policy.rpm_limit) : 'no limit'],
              ['Tokens / min', policy.tpm_limit ? String(policy.tpm_limit) : 'no limit']
            ]}
          />
          {policy.budgets?.length ? (
            <BudgetTable caption="Budgets (the one most spent binds)" budgets={policy.budgets} binding={policy.binding} />
          ) : null}
          <p>
            <strong>Models allowed:</strong> {(policy.allowed_models ?? []).join(', ') || 'none'}
          </p>
          <table>
            <caption>Which layer set what</caption>
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">Set by</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(policy.sources ?? {}).map(([setting, source]) => (
                <tr key={setting}>
                  <th scope="row">{setting}</th>
                  <td>{source ?? '-'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </>
  );
}
