"""Consent links, alerts and the audit log in SQLite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oneteam.services.epidemic.errors import AlertNotFound, ConsentNotFound
from oneteam.services.epidemic.store import EpidemicStore, NewAlert


@pytest.fixture
def store(tmp_path: Path) -> EpidemicStore:
    opened = EpidemicStore(tmp_path / "oneteam.sqlite3")
    yield opened  # type: ignore[misc]
    opened.close()


def _alert(link_id: str) -> NewAlert:
    return NewAlert(
        link_id=link_id, disease="mers", country="SA", watch_until=1.0e9, payload={"notice": {"ko": "가"}}
    )


def test_linking_twice_gives_the_same_live_link(store: EpidemicStore) -> None:
    first = store.link(subscriber_key=42, home_id="home", label="엄마")
    assert store.link(subscriber_key=42, home_id="home").id == first.id
    assert store.link(subscriber_key=42, home_id="cabin").id != first.id
    cabin = store.consents(home_id="cabin")[0].id
    assert store.live_keys() == sorted([(first.id, 42, "엄마", "ko"), (cabin, 42, "", "ko")])


def test_a_revoked_link_is_no_longer_live_and_can_be_granted_again(store: EpidemicStore) -> None:
    link = store.link(subscriber_key=7, home_id="home")
    revoked = store.revoke(link.id)
    assert not revoked.is_live and store.live_keys() == [] and store.consents() == []
    assert [c.id for c in store.consents(include_revoked=True)] == [link.id]
    assert store.revoke(link.id).revoked_at == revoked.revoked_at  # revoking again changes nothing
    assert store.link(subscriber_key=7, home_id="home").id != link.id


def test_one_alert_per_link_and_day(store: EpidemicStore) -> None:
    link = store.link(subscriber_key=1, home_id="home")
    day = dt.date(2026, 11, 24)
    assert store.add_alerts([_alert(link.id), _alert(link.id)], day) == 1
    assert store.add_alerts([_alert(link.id)], day) == 0
    assert store.add_alerts([_alert(link.id)], day + dt.timedelta(days=1)) == 1
    assert [a.alert_day for a in store.alerts()] == ["2026-11-25", "2026-11-24"]


def test_a_link_revoked_before_queueing_gets_no_alert(store: EpidemicStore) -> None:
    link = store.link(subscriber_key=1, home_id="home")
    store.revoke(link.id)
    assert store.add_alerts([_alert(link.id)], dt.date(2026, 11, 24)) == 0


def test_consent_changes_and_deliveries_are_audited(store: EpidemicStore) -> None:
    link = store.link(subscriber_key=1, home_id="home")
    store.add_alerts([_alert(link.id)], dt.date(2026, 11, 24))
    (alert,) = store.pending()
    assert alert.payload == {"notice": {"ko": "가"}} and alert.delivered_at is None
    store.mark_delivered(alert.id, event_id=99, device_id="tv")
    store.revoke(link.id)
    assert store.pending() == [] and store.alert(alert.id).event_id == 99
    log = store.audit_log()
    assert [e.action for e in log] == [
        "consent_granted",
        "alerts_queued",
        "alert_delivered",
        "consent_revoked",
    ]
    assert log[2].detail == "event=99 device=tv" and {e.link_id for e in log} == {link.id, None}


def test_a_bulk_import_adds_only_new_links_and_is_audited_once(store: EpidemicStore) -> None:
    store.link(subscriber_key=1, home_id="home-1")
    assert store.link_many([1, 2, 3], home_ids=["home-1", "home-2", "home-3"]) == 2
    assert len(store.live_keys()) == 3
    assert [e.detail for e in store.audit_log() if e.action == "consent_imported"] == ["links=2"]


def test_unknown_ids_are_clear_errors(store: EpidemicStore) -> None:
    with pytest.raises(ConsentNotFound):
        store.revoke("cl_nope")
    with pytest.raises(AlertNotFound):
        store.alert(12345)
