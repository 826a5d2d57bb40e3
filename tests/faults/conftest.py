"""Fault tests: real processes killed, a PostgreSQL server restarted, platforms failing for a while."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import PG_URL
from tests.faults.pgcluster import PrivateCluster, available


@pytest.fixture
def pg_cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster this test may stop and start (PostgreSQL runs of the suite only)."""
    if not PG_URL:
        pytest.skip("PostgreSQL fault test: runs in the PostgreSQL pass of the suite (WGBOT_TEST_DATABASE_URL)")
    reason = available()
    if reason is not None:
        pytest.skip(f"no private PostgreSQL cluster: {reason}")
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
