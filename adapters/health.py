"""`GET /healthz` (Slack HTTP mode): is the database reachable and is every chat adapter connected?

Load balancers and orchestrators poll it: 200 with `{"status": "ok", …}` when all is well, 503 with
the part that is not (`"database": "unreachable"`, `"discord": "connecting"`) otherwise. With several
processes on one database it also says whether this one leads the scheduling engine
(`"engine": "leader"` or `"standby"`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from storage.db import Database, DatabaseError

#: an adapter's state now: "connected", "connecting" (reconnecting after a network failure) or "stopped"
Probe = Callable[[], str]


async def health(
    db: Database, probes: Mapping[str, Probe], roles: Mapping[str, Probe] | None = None
) -> tuple[bool, dict[str, Any]]:
    """`roles` are reported but do not make the process unhealthy: `"engine": "leader"|"standby"`
    (a standby is as healthy as the leader; it takes over when the leader dies)."""
    try:
        await db.check()
        database = "ok"
    except DatabaseError:
        database = "unreachable"
    adapters = {name: probe() for name, probe in sorted(probes.items())}
    ok = database == "ok" and all(state == "connected" for state in adapters.values())
    report: dict[str, Any] = {"status": "ok" if ok else "unhealthy", "database": database, "adapters": adapters}
    report.update({name: role() for name, role in sorted((roles or {}).items())})
    return ok, report
