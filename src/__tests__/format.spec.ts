import {
  budgetText,
  contextK,
  money,
  perMillion,
  snippet,
  utcInstant
} from '../format';
import { english } from './translator';

describe('perMillion', () => {
  it('shows a dash for free models', () => {
    expect(perMillion(0)).toBe('-');
  });
  it('uses 4 decimals under a cent and 2 above', () => {
    expect(perMillion(7.3e-9)).toBe('$0.0073');
    expect(perMillion(1.515e-7)).toBe('$0.15');
    expect(perMillion(3e-6)).toBe('$3.00');
  });
});

describe('money', () => {
  it('follows the FinOps precision rules', () => {
    expect(money(12.345)).toBe('$12.35');
    expect(money(0.4212)).toBe('$0.4212');
    expect(money(0.000123)).toBe('$0.000123');
    expect(money(0)).toBe('$0.00');
  });
});

describe('budgetText', () => {
  it('says spend of budget and the period', () => {
    expect(budgetText(english, 0.42, 10, 'month')).toBe(
      '$0.4200 of $10.00 this month'
    );
    expect(budgetText(english, 2, 5, 'day')).toBe('$2.00 of $5.00 today');
    expect(budgetText(english, 2, 5, 'week')).toBe('$2.00 of $5.00 this week');
  });
  it('says spend alone without a budget', () => {
    expect(budgetText(english, 0.5, null, null)).toBe('$0.5000 this month');
  });
});

describe('utcInstant', () => {
  it('gives the day and the time in UTC', () => {
    expect(utcInstant(english, '2026-12-01T00:00:00Z')).toBe(
      '2026-12-01 at 00:00 UTC'
    );
  });
});

describe('contextK and snippet', () => {
  it('shows the context window in K', () => {
    expect(contextK(2048)).toBe('2K');
    expect(contextK(null)).toBe('-');
  });
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
