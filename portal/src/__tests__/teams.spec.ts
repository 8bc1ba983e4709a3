// Teams as the portal shows and edits them: the settings form and what it sends, the term
// as fields and as a sentence, the models to choose among, a member's spend, the team's
// spend by day and model.
import {
  adjustmentText,
  hasTerm,
  modelChoices,
  notebooksText,
  revokedText,
  RosterMember,
  settingsBody,
  settingsForm,
  spendLines,
  Team,
  teamSpend,
  teamSpendSummary,
  teamWindows,
  termField,
  termInstant,
  termText
} from '../teams';

const course: Team = {
  name: 'cs102',
  available_models: ['course-echo', 'echo-large'],
  models: ['course-echo'],
  budgets: [
    { window: 'week', usd: 0.02 },
    { window: 'day', usd: 0.01 }
  ],
  caps: [{ window: 'term', usd: 5 }],
  starts_at: '2026-09-01T00:00:00+00:00',
  ends_at: '2027-01-31T23:45:00+00:00',
  alert_percent: 75,
  term_state: 'during',
  idle_because: null
};

describe("a team's term", () => {
  it('is shown in UTC fields to the minute, whatever offset the API wrote', () => {
    expect(termField('2027-01-31T23:45:00+00:00')).toBe('2027-01-31T23:45');
    expect(termField('2027-02-01T00:45:00+01:00')).toBe('2027-01-31T23:45');
    expect(termField('2027-01-31T23:00:00Z')).toBe('2027-01-31T23:00');
    expect(termField(null)).toBe('');
    expect(termField('never')).toBe('');
  });

  it('goes to the API as an instant in UTC, or null when empty', () => {
    expect(termInstant('2027-01-31T23:45')).toBe('2027-01-31T23:45:00Z');
    expect(termInstant('2027-01-31T23:45:00')).toBe('2027-01-31T23:45:00Z');
    expect(termInstant('  ')).toBeNull();
    // what is no instant goes as typed: the API answers with its sentence
    expect(termInstant('next spring')).toBe('next spring');
  });

  it('round-trips through its field', () => {
    expect(termInstant(termField(course.ends_at))).toBe('2027-01-31T23:45:00Z');
  });

  it('says when it runs and whether it runs now, or that there is none', () => {
    expect(termText(course)).toBe('Term from 2026-09-01 00:00 UTC to 2027-01-31 23:45 UTC: running.');
    expect(termText({ ...course, term_state: 'after' })).toMatch(/: ended\.$/);
    expect(termText({ ...course, term_state: 'before' })).toMatch(/: not started yet\.$/);
    expect(termText({ ...course, starts_at: null, ends_at: null, term_state: null })).toBe(
      'No term: the team grants its models at any time.'
    );
  });

  it('offers a budget over the term only with a term', () => {
    expect(hasTerm(course)).toBe(true);
    expect(hasTerm({ starts_at: '2027-01-01T00:00', ends_at: '' })).toBe(false);
    expect(teamWindows(true)).toEqual(['hour', 'day', 'week', 'month', 'term']);
    expect(teamWindows(false)).toEqual(['hour', 'day', 'week', 'month']);
  });
});

describe("a team's settings", () => {
  it('fill the form, each window with a field, the term included', () => {
    const form = settingsForm(course);
    expect(form.models).toEqual(['course-echo']);
    expect(form.budgets).toEqual({ hour: '', day: '0.01', week: '0.02', month: '', term: '' });
    expect(form.caps.term).toBe('5');
    expect([form.starts_at, form.ends_at, form.alert_percent]).toEqual(['2026-09-01T00:00', '2027-01-31T23:45', '75']);
  });

  it('send what the form shows, shortest window first, the term as instants', () => {
    const form = settingsForm(course);
    expect(settingsBody({ ...form, alert_percent: '90' })).toEqual({
      models: ['course-echo'],
      budgets: [
        { window: 'day', usd: 0.01 },
        { window: 'week', usd: 0.02 }
      ],
      caps: [{ window: 'term', usd: 5 }],
      starts_at: '2026-09-01T00:00:00Z',
      ends_at: '2027-01-31T23:45:00Z',
      alert_percent: 90
    });
  });

  it('send no budget over the term once the term is cleared, and no alert share when it is empty', () => {
    const form = { ...settingsForm(course), starts_at: '', ends_at: '', alert_percent: '' };
    const body = settingsBody(form);
    expect(body.caps).toEqual([]);
    expect([body.starts_at, body.ends_at]).toEqual([null, null]);
    expect('alert_percent' in body).toBe(false);
  });
});

describe("the models a team's admins choose among", () => {
  it('are those made available', () => {
    expect(modelChoices(['echo-large', 'course-echo'], ['smollm2-135m'])).toEqual({
      names: ['course-echo', 'echo-large'],
      all: false
    });
    expect(modelChoices(undefined, ['smollm2-135m'])).toEqual({ names: [], all: false });
  });

  it("are the catalog's, and all of them, when all are available; the chosen ones stay", () => {
    expect(modelChoices(['*'], ['smollm2-135m', 'echo-large'], ['gone-model'])).toEqual({
      names: ['echo-large', 'gone-model', 'smollm2-135m'],
      all: true
    });
  });
});

describe('a roster member', () => {
  const sam: RosterMember = {
    user: 'sam',
    budgets: [
      { window: 'week', usd: 0.02, spend_usd: 0.0031, resets_at: '2026-11-30T00:00:00Z' },
      { window: 'day', usd: 0.05, spend_usd: 0.0031, resets_at: '2026-11-27T00:00:00Z' }
    ],
    requests: 1,
    last_used: '2026-11-26T10:00:00+00:00',
    top_notebooks: [{ notebook_path: 'week1/intro.ipynb', cost_usd: 0.0031 }],
    adjustment: { team: 'cs102', user: 'sam', budgets: [{ window: 'day', usd: 0.05 }], note: 'accommodation' }
  };

  it('has their spend of each budget, the shortest window first', () => {
    expect(spendLines(sam)).toEqual([
      { window: 'day', label: 'Daily', spent: 0.0031, usd: 0.05, text: '$0.0031 of $0.05' },
      { window: 'week', label: 'Weekly', spent: 0.0031, usd: 0.02, text: '$0.0031 of $0.02' }
    ]);
    expect(spendLines({ user: 'sara' })).toEqual([]);
  });

  it('has their own budgets and why, or none', () => {
    expect(adjustmentText(sam.adjustment)).toBe('$0.05 / day (accommodation)');
    expect(adjustmentText({ budgets: [{ window: 'term', usd: 1 }] })).toBe('$1.00 / term');
    expect(adjustmentText(null)).toBe('-');
  });

  it('has their top notebooks with their spend', () => {
    expect(notebooksText(sam)).toBe('week1/intro.ipynb ($0.0031)');
    expect(notebooksText({ user: 'sara', top_notebooks: [] })).toBe('-');
  });

  it('loses their keys, and the page says how many', () => {
    expect(revokedText('sam', 1)).toBe('Revoked 1 key of sam.');
    expect(revokedText('sam', 3)).toBe('Revoked 3 keys of sam.');
    expect(revokedText('sara', 0)).toBe('sara had no active key to revoke.');
  });
});

describe("the team's spend by day and model", () => {
  const now = new Date('2026-11-26T12:00:00Z');
  const usage = {
    team: 'cs102',
    days: 3,
    by_day: [
      { day: '2026-11-24', model: 'echo-large', requests: 1, cost_usd: 0.001 },
      { day: '2026-11-26', model: 'course-echo', requests: 2, cost_usd: 0.004 },
      { day: '2026-11-26', model: 'echo-large', requests: 1, cost_usd: 0.002 }
    ]
  };

  it('has a bar a day, oldest first, a value a model (zero without spend), most spent model first', () => {
    expect(teamSpend(usage, 3, now)).toEqual({
      rows: [
        { day: '11-24', 'course-echo': 0, 'echo-large': 0.001 },
        { day: '11-25', 'course-echo': 0, 'echo-large': 0 },
        { day: '11-26', 'course-echo': 0.004, 'echo-large': 0.002 }
      ],
      models: ['course-echo', 'echo-large']
    });
  });

  it('is said in a sentence: the total, each model, the day with the most', () => {
    expect(teamSpendSummary(usage, 3, now)).toBe(
      '$0.007 over the last 3 days (course-echo $0.004, echo-large $0.003), the most on 11-26: $0.006.'
    );
    expect(teamSpendSummary({ by_day: [] }, 30, now)).toBe('No spend in the last 30 days.');
  });
});
