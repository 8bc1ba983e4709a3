"""How money is shown by the service, the gateway's messages, the spawn form and the
``maas`` command: by the rule JupyterLab and the portal follow (``src/numbers.ts``), so
a budget reads the same everywhere. ``tests/money_cases.json`` holds the cases both
implementations are tested against.

- "$0.00" for nothing; 2 decimals from $0.01 ("$0.42", "$1,234.50");
- under a cent, 2 significant digits ("$0.0015", "$0.0000025"): a request to a small
  model costs millionths of a dollar and should not read as zero.
"""

from __future__ import annotations

from decimal import Decimal


def money(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value == 0 or float(f"{value:.2g}") >= 0.01:
        return f"{sign}${value:,.2f}"
    return f"{sign}${format(Decimal(f'{value:.2g}'), 'f')}"


def per_million(cost_per_token: float | None) -> str:
    """A price per token as dollars per 1M tokens, "-" when free or unknown."""
    value = (cost_per_token or 0) * 1_000_000
    return "-" if value == 0 else money(value)
