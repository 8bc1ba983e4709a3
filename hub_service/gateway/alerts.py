"""Budget alerts: one webhook POST per user and budget window when the spend against the
budget that binds passes a share of it (``MAAS_ALERT_WEBHOOK_URL``,
``MAAS_ALERT_THRESHOLD``; a team's own ``alert_percent`` for the team's budgets)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .. import policy as policies
from ..db import BudgetAlert, utcnow

log = logging.getLogger("maas.gateway")


class Alerts:
    def __init__(self, engine: Engine, webhook_url: str = "", threshold: float = 0.8):
        self.engine = engine
        self.webhook_url = webhook_url
        self.threshold = threshold
        self._sent: set[tuple[str, dt.datetime]] = set()  # (user, period start)

    def due(self, user: str, stand: policies.Standing) -> bool:
        """Whether this user's spend calls for an alert this process has not sent."""
        threshold = stand.budget.alert or self.threshold
        return bool(
            self.webhook_url
            and stand.budget.usd
            and stand.spent >= threshold * stand.budget.usd
            and (user, stand.start) not in self._sent
        )

    def forget_before(self, start: dt.datetime) -> None:
        self._sent = {s for s in self._sent if s[1] >= start}

    async def send(self, user: str, policy: policies.Policy, stand: policies.Standing) -> None:
        """Send the alert once per user and window (the database row's primary key
        decides between gateway processes)."""
        budget, spent, start, end = stand.budget, stand.spent, stand.start, stand.end
        self._sent.add((user, start))

        def claim() -> bool:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(BudgetAlert).values(
                            user=user,
                            period_start=start,
                            sent_at=utcnow(),
                            spend_usd=spent,
                            budget_usd=budget.usd,
                        )
                    )
                return True
            except IntegrityError:
                return False

        if not await asyncio.to_thread(claim):
            return
        payload = {
            "event": "budget.threshold",
            "user": user,
            "profile": policy.profile,
            "spend_usd": round(spent, 6),
            "budget_usd": budget.usd,
            "threshold": budget.alert or self.threshold,
            "period": budget.window,
            "team": budget.team,
            "cap": budget.cap,
            "period_start": start.isoformat() + "Z",
            "resets_at": end.isoformat() + "Z",
        }
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(self.webhook_url, json=payload)
                r.raise_for_status()
            log.info("Budget alert sent for %s (%s of %s)", user, payload["spend_usd"], budget.usd)
        except httpx.HTTPError as e:
            log.warning("Budget alert for %s could not be delivered: %s", user, e)
