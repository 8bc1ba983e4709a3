import { budgetText, snippet, utcInstant } from '../format';
import { contextK, count, money, perMillion } from '../numbers';
import { english } from './translator';

import { readFileSync } from 'fs';
import { join } from 'path';

// The cases hub_service/numbers.py is tested against too (tests/money_cases.json): the
// service's messages, the spawn form and the maas command show money as the UIs do.
const shared = JSON.parse(
  readFileSync(join(__dirname, '../../tests/money_cases.json'), 'utf8')
) as { money: [number, string][]; per_million: [number, string][] };

describe('the money cases shared with the Python side', () => {
  it.each(shared.money)('money(%p) is %p', (value, text) => {
    expect(money(value)).toBe(text);
  });
  it.each(shared.per_million)('perMillion(%p) is %p', (value, text) => {
    expect(perMillion(value)).toBe(text);
  });
});

// The rules of ../numbers, which the portal imports too (portal.spec.ts asserts the same).
describe('perMillion', () => {
  it('shows a dash for free or unknown prices', () => {
    expect(perMillion(0)).toBe('-');
    expect(perMillion(null)).toBe('-');
  });
  it('prices per 1M tokens by the money rule', () => {
    expect(perMillion(7.3e-9)).toBe('$0.0073');
    expect(perMillion(1.5e-9)).toBe('$0.0015');
    expect(perMillion(5e-8)).toBe('$0.05');
    expect(perMillion(1.515e-7)).toBe('$0.15');
    expect(perMillion(3e-6)).toBe('$3.00');
  });
});

describe('money', () => {
  it('shows nothing as $0.00', () => {
    expect(money(0)).toBe('$0.00');
  });
  it('uses 2 decimals from a cent, with thousands separators', () => {
    expect(money(12.345)).toBe('$12.35');
    expect(money(0.4212)).toBe('$0.42');
    expect(money(0.01)).toBe('$0.01');
    expect(money(0.00999)).toBe('$0.01');
    expect(money(1234.5)).toBe('$1,234.50');
  });
  it('uses 2 significant digits under a cent, so a request never reads as zero', () => {
    expect(money(0.0123)).toBe('$0.01');
    expect(money(0.000123)).toBe('$0.00012');
    expect(money(0.0000025)).toBe('$0.0000025');
    expect(money(0.000001)).toBe('$0.000001');
    expect(money(1.5e-9)).toBe('$0.0000000015');
  });
  it('puts the sign before the dollar', () => {
    expect(money(-2)).toBe('-$2.00');
  });
  it('takes a fixed precision for the ticks of an axis', () => {
    expect(money(0.000002, 7)).toBe('$0.0000020');
    expect(money(1500, 2)).toBe('$1,500.00');
  });
});

describe('count and contextK', () => {
  it('separates thousands', () => {
    expect(count(1234567)).toBe('1,234,567');
    expect(count(0)).toBe('0');
  });
  it('shows context windows in decimal K and M', () => {
    expect(contextK(128000)).toBe('128K');
    expect(contextK(131072)).toBe('131K');
    expect(contextK(8192)).toBe('8.2K');
    expect(contextK(2048)).toBe('2K');
    expect(contextK(512)).toBe('512');
    expect(contextK(1_000_000)).toBe('1M');
    expect(contextK(1_048_576)).toBe('1M');
    expect(contextK(999_999)).toBe('1M');
    expect(contextK(null)).toBe('-');
    expect(contextK(0)).toBe('-');
  });
});

describe('budgetText', () => {
  it('says spend of budget and the period', () => {
    expect(budgetText(english, 0.42, 10, 'month')).toBe(
      '$0.42 of $10.00 this month'
    );
    expect(budgetText(english, 2, 5, 'day')).toBe('$2.00 of $5.00 today');
    expect(budgetText(english, 2, 5, 'week')).toBe('$2.00 of $5.00 this week');
  });
  it("says an hour's and a team's term's spend", () => {
    expect(budgetText(english, 0.01, 0.02, 'hour')).toBe(
      '$0.01 of $0.02 this hour'
    );
    expect(budgetText(english, 3, 50, 'term')).toBe(
      '$3.00 of $50.00 this term'
    );
  });
  it('says spend alone without a budget', () => {
    expect(budgetText(english, 0.5, null, null)).toBe('$0.50 this month');
    expect(budgetText(english, 0.5, null, 'hour')).toBe('$0.50 this hour');
    expect(budgetText(english, 0.5, null, 'term')).toBe('$0.50 this term');
  });
});

describe('utcInstant', () => {
  it('gives the day and the time in UTC', () => {
    expect(utcInstant(english, '2026-12-01T00:00:00Z')).toBe(
      '2026-12-01 at 00:00 UTC'
    );
  });
});

describe('snippet', () => {
  it('writes a cell that needs no key and no URL', () => {
    const code = snippet('smollm2-135m');
    expect(code).toContain('model="smollm2-135m"');
    expect(code).toContain('OpenAI()');
    expect(code).not.toMatch(/api_key|sk-/);
  });
  it('names a Hugging Face style id as it is', () => {
    expect(snippet('Qwen/Qwen2.5-7B-Instruct')).toContain(
      'model="Qwen/Qwen2.5-7B-Instruct"'
    );
  });
});
