"""The anchorer against a real openssl TSA on loopback, on SQLite and PostgreSQL: moved
heads are stamped, unmoved ones are not, and a TSA that is down, slow or answers garbage
stores nothing, never holds up a write, and is retried until it answers."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ropa.config import TsaConfig
from ropa.ledger.checkpoint import checkpoint_body
from ropa.ledger.timestamp import load_trusted, open_token
from ropa.services import anchors, processors
from ropa.services.anchorer import Anchorer
from ropa.services.runtime import Runtime
from ropa.store import anchor_store
from tests.anchors.conftest import with_tsas
from tests.anchors.tsa import Authority, TsaServer
from tests.conftest import Org, make_org


def _write(rt: Runtime, org: Org, name: str = "Vendor") -> Any:
    data = {"name": name, "country": "DE"}
    return processors.register_processor(rt, org.as_role("EDITOR"), data)


def _stored(rt: Runtime, org_id: str) -> list[anchor_store.Anchor]:
    with rt.db.read() as conn:
        return anchor_store.anchors(conn, org_id)


def _head(rt: Runtime, org_id: str) -> tuple[int, str]:
    with rt.db.read() as conn:
        head = anchor_store.moved_heads(conn, ["x"])
    found = next(m for m in head if m.org_id == org_id)
    return found.size, found.checkpoint


def test_a_moved_head_is_stamped_with_a_token_for_its_checkpoint_body(
    art: Runtime, org: Org, authority: Authority
) -> None:
    _write(art, org)
    size, note = _head(art, org.id)
    cycle = Anchorer(art).run_once()
    assert cycle.failed == 0 and cycle.stamped >= 1
    (anchor,) = _stored(art, org.id)
    assert (anchor.size, anchor.tsa) == (size, authority.name)
    token = open_token(anchor.token, checkpoint_body(note), load_trusted(authority.ca_cert))
    assert token.gen_time_text == anchor.gen_time


def test_nothing_is_stamped_when_no_head_moved(art: Runtime, org: Org, tsa: TsaServer) -> None:
    anchorer = Anchorer(art)
    anchorer.run_once()
    asked = tsa.requests
    again = anchorer.run_once()
    assert (again.stamped, again.failed, tsa.requests) == (0, 0, asked)
    _write(art, org)
    assert anchorer.run_once().stamped == 1
    sizes = [a.size for a in _stored(art, org.id)]
    assert sizes == sorted(set(sizes)) and sizes[-1] == _head(art, org.id)[0]


def test_every_configured_tsa_stamps_each_moved_head(
    rt: Runtime, org: Org, tsa: TsaServer, authority: Authority
) -> None:
    second = TsaServer(authority).start()
    try:
        art = with_tsas(
            rt,
            TsaConfig("first", tsa.url, authority.ca_cert),
            TsaConfig("second.tsa", second.url, authority.ca_cert),
        )
        assert Anchorer(art).run_once().stamped == 2
        assert [a.tsa for a in _stored(art, org.id)] == ["first", "second.tsa"]
    finally:
        second.stop()


def test_a_tsa_that_refuses_connections_stores_nothing_and_is_retried_until_it_answers(
    rt: Runtime, org: Org, authority: Authority
) -> None:
    server = TsaServer(authority).start()
    port = server.port
    server.stop()  # the port is closed: connection refused
    art = with_tsas(rt, TsaConfig(authority.name, server.url, authority.ca_cert))
    failures: list[str] = []
    anchorer = Anchorer(art, on_failure=failures.append)
    cycle = anchorer.run_once()
    assert cycle.failed == 1 and "unreachable" in cycle.errors[authority.name]
    assert failures == [authority.name]
    assert _stored(art, org.id) == []
    assert _write(art, org).receipt is not None  # writes go on
    # backing off: the next pass does not ask again yet
    assert anchorer.run_once().waiting == [authority.name]
    back = TsaServer(authority, port=port).start()
    try:
        time.sleep(anchorer.backoff(1) + 0.05)
        assert anchorer.run_once().stamped == 1
        assert [a.size for a in _stored(art, org.id)] == [_head(art, org.id)[0]]
    finally:
        back.stop()


def test_a_slow_tsa_times_out_without_holding_up_writes_then_succeeds(
    art: Runtime, org: Org, tsa: TsaServer
) -> None:
    tsa.mode, tsa.delay = "slow", 3.0
    anchorer = Anchorer(art).start()
    try:
        deadline = time.monotonic() + 5
        while tsa.requests == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tsa.requests >= 1  # the anchorer is now waiting on the TSA
        started = time.perf_counter()
        _write(art, org, "During a slow TSA")
        assert time.perf_counter() - started < 1.0  # the write did not wait for it
        time.sleep(1.2)  # past the 1 s timeout
        assert _stored(art, org.id) == []
        assert any(t.failures for t in anchorer.tsas)
        tsa.mode = "ok"
        deadline = time.monotonic() + 10
        while not _stored(art, org.id) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        anchorer.stop()
    assert [a.size for a in _stored(art, org.id)] == [_head(art, org.id)[0]]


@pytest.mark.parametrize("mode", ["garbage", "error"])
def test_a_garbage_answer_is_never_stored_and_a_later_good_one_is(
    art: Runtime, org: Org, tsa: TsaServer, mode: str
) -> None:
    tsa.mode = mode
    anchorer = Anchorer(art)
    cycle = anchorer.run_once()
    assert cycle.failed == 1 and cycle.stamped == 0
    assert _stored(art, org.id) == []
    tsa.mode = "ok"
    time.sleep(anchorer.backoff(1) + 0.05)
    assert anchorer.run_once().stamped == 1
    assert len(_stored(art, org.id)) == 1


def test_a_token_from_an_untrusted_tsa_is_not_stored(
    rt: Runtime, org: Org, stranger: Authority, authority: Authority
) -> None:
    server = TsaServer(stranger).start()
    try:
        # the server signs with the stranger's key; the deployment trusts another root
        art = with_tsas(rt, TsaConfig("stranger", server.url, authority.ca_cert))
        cycle = Anchorer(art).run_once()
    finally:
        server.stop()
    assert cycle.failed == 1 and "chain" in cycle.errors["stranger"]
    assert _stored(art, org.id) == []


def test_backoff_doubles_up_to_its_cap(art: Runtime) -> None:
    anchorer = Anchorer(art)
    waits = [anchorer.backoff(n) for n in range(1, 40)]
    assert waits[:3] == [0.1, 0.2, 0.4]
    assert max(waits) == waits[-1] <= 900.0


def test_a_second_stamp_of_the_same_size_and_tsa_is_dropped(art: Runtime, org: Org) -> None:
    Anchorer(art).run_once()
    (first,) = _stored(art, org.id)
    again = anchor_store.Anchor(first.org_id, first.size, first.tsa, first.gen_time, b"other")
    assert anchor_store.add_anchor(art.db, again, "2026-01-01T00:00:00.000000Z") is False
    assert _stored(art, org.id) == [first]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_anchor SET gen_time = '2020-01-01T00:00:00.000000Z'",
        "UPDATE ledger_anchor SET token = token || token",
        "DELETE FROM ledger_anchor",
    ],
)
def test_raw_sql_cannot_change_or_delete_an_anchor(art: Runtime, org: Org, statement: str) -> None:
    Anchorer(art).run_once()
    before = _stored(art, org.id)
    assert before
    with pytest.raises(DBAPIError, match="append-only"), art.db.engine.begin() as conn:
        conn.execute(text(statement))
    assert _stored(art, org.id) == before


def test_each_organisation_is_stamped_with_its_own_checkpoint(art: Runtime, org: Org) -> None:
    other = make_org(art, "globex")
    Anchorer(art).run_once()
    mine, theirs = _stored(art, org.id), _stored(art, other.id)
    assert len(mine) == len(theirs) == 1
    assert mine[0].token != theirs[0].token


def test_the_lag_counts_from_the_oldest_unstamped_checkpoint(art: Runtime, org: Org) -> None:
    lag = anchors.lag(art)
    assert lag is not None and lag.organizations_behind >= 1 and lag.seconds >= 0
    Anchorer(art).run_once()
    assert anchors.lag(art) == anchors.AnchorLag(0.0, 0, None, None)
