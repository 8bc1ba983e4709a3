/**
 * How money, prices, token counts and context windows are shown, in JupyterLab and in
 * the portal alike: the portal imports this module (portal/src/format.ts re-exports
 * it), so the two cannot drift apart. It depends on nothing, so that the portal's
 * bundle and type check need none of JupyterLab's packages.
 *
 * The rules:
 * - money: "$0.00" for nothing; 2 decimals from $0.01 ("$0.42", "$1,234.50"); under a
 *   cent, 2 significant digits ("$0.0015", "$0.0000025"), since a single request to a
 *   small model costs millionths of a dollar and should not read as zero;
 * - a price per token: per 1M tokens by the money rule, "-" when free;
 * - counts: whole numbers with thousands separators ("1,234");
 * - context windows: decimal K and M as model vendors state them (128,000 tokens is
 *   "128K", 8,192 is "8.2K", 1,000,000 is "1M").
 */

const LOCALE = 'en-US';

function fixed(value: number, decimals: number): string {
  return value.toLocaleString(LOCALE, {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals
  });
}

/**
 * Dollars by the money rule, or with exactly ``decimals`` decimals when given (for the
 * ticks of an axis, which share one precision).
 */
export function money(value: number, decimals?: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  let digits: string;
  if (decimals !== undefined) {
    digits = fixed(abs, decimals);
  } else if (abs === 0 || Number(abs.toPrecision(2)) >= 0.01) {
    digits = fixed(abs, 2);
  } else {
    digits = abs.toLocaleString(LOCALE, { maximumSignificantDigits: 2 });
  }
  return `${sign}$${digits}`;
}

/** A price per token as dollars per 1M tokens, "-" when free or unknown. */
export function perMillion(costPerToken: number | null | undefined): string {
  const value = (costPerToken ?? 0) * 1_000_000;
  return value === 0 ? '-' : money(value);
}

/** A whole number with thousands separators. */
export function count(value: number): string {
  return value.toLocaleString(LOCALE, { maximumFractionDigits: 0 });
}

/** A context window in decimal K or M ("128K", "8.2K", "1M"), "-" when unknown. */
export function contextK(tokens: number | null | undefined): string {
  if (!tokens) {
    return '-';
  }
  const scaled = (unit: number) => {
    const value = tokens / unit;
    return value.toLocaleString(LOCALE, {
      maximumFractionDigits: value < 10 ? 1 : 0
    });
  };
  if (tokens < 1000) {
    return count(tokens);
  }
  if (tokens < 1_000_000 && Math.round(tokens / 1000) < 1000) {
    return `${scaled(1000)}K`;
  }
  return `${scaled(1_000_000)}M`;
}
