"""`GET /healthz`: can this process serve the traffic sent to its HTTP port?

Load balancers and orchestrators poll it: 200 with `{"status": "ok", …}` when the database is
reachable and the adapters served over this HTTP port (Slack's HTTP mode, the web record) answer;
503 with the part that is not (`"database": "unreachable"`) otherwise. The process's other adapters
(Discord's gateway, Slack's Socket Mode) are reported in `adapters` too (`"discord": "connecting"`)
but do not fail the check: no request the load balancer sends depends on them, and every process
would fail it together during a Discord outage, taking Slack's traffic down with it. With several
processes on one database it also says whether this one leads the scheduling engine
(`"engine": "leader"` or `"standby"`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storage.db import Database, DatabaseError

#: an adapter's state now: "connected", "connecting" (reconnecting after a network failure) or "stopped"
Probe = Callable[[], str]


class Advisory:
    """A probe reported under `adapters` that does not decide the HTTP status: an adapter that does
    not take its traffic over this process's HTTP port (Discord's gateway, Slack's Socket Mode)."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    def __call__(self) -> str:
        return self.probe()


async def health(
    db: Database, probes: Mapping[str, Probe], roles: Mapping[str, Probe] | None = None
) -> tuple[bool, dict[str, Any]]:
    """Healthy when the database answers and every probe that is not `Advisory` is connected.
    `roles` are reported but do not make the process unhealthy: `"engine": "leader"|"standby"`
    (a standby is as healthy as the leader; it takes over when the leader dies)."""
    try:
        await db.check()
        database = "ok"
    except DatabaseError:
        database = "unreachable"
    adapters = {name: probe() for name, probe in sorted(probes.items())}
    needed = [state for name, state in adapters.items() if not isinstance(probes[name], Advisory)]
    ok = database == "ok" and all(state == "connected" for state in needed)
    report: dict[str, Any] = {"status": "ok" if ok else "unhealthy", "database": database, "adapters": adapters}
    report.update({name: role() for name, role in sorted((roles or {}).items())})
    return ok, report
