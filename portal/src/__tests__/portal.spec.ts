// The portal's formatting (prices per 1M tokens, money, providers' accents, snippets) and chart data.
import { accent, contextK, money, PALETTE, perMillion, provider, snippets } from '../format';
import {
  budgetShare,
  keyLabel,
  modelSpendSummary,
  moneyAxis,
  spendByDay,
  spendSummary,
  subscriptions,
  tokenDonut,
  tokenSplit,
  topKeys,
  topModels
} from '../usage';
import * as shared from '../../../src/numbers';

// The rules themselves are src/numbers.ts's, tested once (src/__tests__/format.spec.ts,
// with tests/money_cases.json, which the Python side shares): the portal shows numbers
// by that very module.
describe('prices, money and context windows, as JupyterLab shows them', () => {
  it('are the shared module itself, not a copy', () => {
    expect(money).toBe(shared.money);
    expect(perMillion).toBe(shared.perMillion);
    expect(contextK).toBe(shared.contextK);
  });
});

describe('models', () => {
  it('names the provider of Hugging Face and LiteLLM style names', () => {
    expect(provider('Qwen/Qwen2.5-7B-Instruct')).toBe('Qwen');
    expect(provider('smollm2-135m')).toBe('smollm2');
  });

  it('gives a provider one accent from the palette', () => {
    expect(PALETTE).toContain(accent('Qwen/a'));
    expect(accent('Qwen/a')).toBe(accent('Qwen/b'));
  });

  it('writes snippets with the id as given and the key only when asked', () => {
    const s = snippets('https://api.example.org/v1', 'Qwen/Qwen2.5-7B-Instruct');
    expect(s.python).toContain('model="Qwen/Qwen2.5-7B-Instruct"');
    expect(s.python).not.toContain('api_key=');
    expect(s.curl).toContain('Bearer $OPENAI_API_KEY');
    const withKey = snippets('https://x/v1', 'm', 'sk-maas-abc');
    expect(withKey.node).toContain('apiKey: "sk-maas-abc"');
  });

  it("writes a conversation and its settings as each language's literal", () => {
    const talk = [
      { role: 'user' as const, content: "It's \"quoted\"" },
      { role: 'assistant' as const, content: 'Yes.' },
      { role: 'user' as const, content: 'And?' }
    ];
    const s = snippets('https://x/v1', 'm', undefined, talk, { temperature: 0.2, max_tokens: 64 });
    expect(s.python).toContain('{"role": "user", "content": "It\'s \\"quoted\\""}');
    expect(s.python).toContain('    temperature=0.2,\n    max_tokens=64,\n)');
    // the shell's quoting of the JSON body: what curl receives is the JSON itself
    const body = s.curl.slice(s.curl.indexOf("-d '") + 4, s.curl.lastIndexOf("'"));
    expect(JSON.parse(body.replace(/'\\''/g, "'"))).toEqual({
      model: 'm',
      messages: talk,
      temperature: 0.2,
      max_tokens: 64
    });
    expect(s.node).toContain('"content": "And?"');
    expect(s.node).toContain('temperature: 0.2,\n  max_tokens: 64\n});');
  });
});

describe('usage charts', () => {
  const usage = {
    by_model: [
      { model: 'a', requests: 2, prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.5 },
      { model: 'b', requests: 1, prompt_tokens: 1, completion_tokens: 1, cost_usd: 2 }
    ],
    by_day: [{ day: '2026-11-25', requests: 3, cost_usd: 2.5 }]
  };

  it('spreads spend over every day of the range, zero where nothing ran', () => {
    const days = spendByDay(usage, 3, new Date('2026-11-26T12:00:00Z'));
    expect(days).toEqual([
      { day: '11-24', cost: 0 },
      { day: '11-25', cost: 2.5 },
      { day: '11-26', cost: 0 }
    ]);
  });

  it('ranks models by spend and splits tokens', () => {
    expect(topModels(usage).map(m => m.model)).toEqual(['b', 'a']);
    expect(tokenSplit(usage)).toEqual([
      { name: 'Tokens in', value: 11 },
      { name: 'Tokens out', value: 6 }
    ]);
  });
});

describe('chart axes and text alternatives', () => {
  const labels = (max: number) => {
    const axis = moneyAxis(max);
    return axis.ticks.map(axis.tickFormatter);
  };

  it('labels every tick of a money axis differently, even for millionths of a dollar', () => {
    expect(labels(0.0000025)).toEqual(['$0.00', '$0.000001', '$0.000002', '$0.000003']);
    expect(labels(0.0000033)).toEqual(['$0.00', '$0.000001', '$0.000002', '$0.000003', '$0.000004']);
    expect(labels(0.000007)).toEqual(['$0.00', '$0.000002', '$0.000004', '$0.000006', '$0.000008']);
    expect(labels(0.018)).toEqual(['$0.00', '$0.005', '$0.010', '$0.015', '$0.020']);
    expect(labels(2.5)).toEqual(['$0.00', '$1.00', '$2.00', '$3.00']);
    expect(labels(1500)).toEqual(['$0.00', '$500.00', '$1,000.00', '$1,500.00']);
    for (let max = 1e-9; max < 1e4; max *= 1.37) {
      const shown = labels(max);
      expect(new Set(shown).size).toBe(shown.length);
      const { ticks } = moneyAxis(max);
      expect(ticks.length).toBeLessThanOrEqual(5);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
    }
  });

  it('gives an axis for no spend at all (free models)', () => {
    expect(labels(0)).toEqual(['$0.00', '$1.00']);
    expect(moneyAxis(0).domain).toEqual([0, 1]);
  });

  it('says no tokens yet instead of an empty donut', () => {
    const refusedOnly = { by_model: [{ model: 'a', requests: 1, prompt_tokens: 0, completion_tokens: 0 }] };
    const none = tokenDonut(tokenSplit(refusedOnly));
    expect(none).toEqual({ slices: [], summary: 'No tokens yet.' });
    expect(tokenDonut(tokenSplit({})).slices).toEqual([]);
    const some = tokenDonut([
      { name: 'Tokens in', value: 1500 },
      { name: 'Tokens out', value: 500 }
    ]);
    expect(some.slices).toHaveLength(2);
    expect(some.summary).toBe('Tokens in: 1,500 (75 %), Tokens out: 500 (25 %).');
  });

  it('summarises the spend charts in a sentence', () => {
    expect(
      spendSummary([
        { day: '11-24', cost: 0 },
        { day: '11-25', cost: 0.0000025 },
        { day: '11-26', cost: 0.000001 }
      ])
    ).toBe('$0.0000035 over the last 3 days, the most on 11-25: $0.0000025.');
    expect(spendSummary(spendByDay({}, 7))).toBe('No spend in the last 7 days.');
    expect(modelSpendSummary([{ model: 'b', cost: 2 }, { model: 'a', cost: 0.5 }])).toBe('b: $2.00, a: $0.50.');
    expect(modelSpendSummary([])).toBe('No spend.');
  });
});

describe('keys and subscriptions', () => {
  const keys = [
    { id: 'k1', name: 'laptop', models: null, state: 'active' as const },
    { id: 'k2', name: 'ci', models: ['b'], state: 'active' as const },
    { id: 'k3', name: 'old', models: null, state: 'revoked' as const },
    { id: 'k4', name: '', server_name: '', profile: 'cpu', models: null, state: 'active' as const }
  ];
  const profiles = [
    { slug: 'cpu', display_name: 'CPU', models: ['a'] },
    { slug: 'gpu', display_name: 'GPU', models: ['*'] }
  ];

  it('labels keys by name, server or id', () => {
    expect(keyLabel({ name: 'laptop' })).toBe('laptop');
    expect(keyLabel({ name: '', server_name: '' })).toBe('server (default)');
    expect(keyLabel({ name: null, key_id: 'abc' })).toBe('key abc');
  });

  it('ranks keys by spend, ten at most', () => {
    const by_key = Array.from({ length: 12 }, (_, i) => ({ key_id: `k${i}`, name: `n${i}`, cost_usd: i }));
    const top = topKeys({ by_key });
    expect(top).toHaveLength(10);
    expect(top[0].label).toBe('n11');
  });

  it("finds which active keys and profiles reach each allowed model, with its spend", () => {
    const usage = { by_model: [{ model: 'b', requests: 3, cost_usd: 1.5 }] };
    expect(subscriptions(['b', 'a'], keys, profiles, usage)).toEqual([
      { model: 'a', keys: ['laptop', 'server (default)'], profiles: ['CPU', 'GPU'], requests: 0, spend: 0 },
      { model: 'b', keys: ['laptop', 'ci'], profiles: ['GPU'], requests: 3, spend: 1.5 }
    ]);
  });

  it('shows a budget share from 0 to 1', () => {
    expect(budgetShare(5, 10)).toBe(0.5);
    expect(budgetShare(15, 10)).toBe(1);
    expect(budgetShare(0, 0)).toBe(0);
    expect(budgetShare(1, 0)).toBe(1);
  });
});
