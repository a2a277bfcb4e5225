from __future__ import annotations

import pytest
from django.db import connection

from wangge.cli import main as wangge
from wangge.core import audit, chain
from wangge.core.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db


def _write_entries(n: int) -> None:
    for i in range(n):
        audit.record(None, "update_area", "area", f"12011000100{i}", fields=["name"], reason="测试")


def _raw(sql: str, params: list[str | int]) -> None:
    # Tampering goes around the ORM, as someone with database access would.
    with connection.cursor() as cur:
        cur.execute(sql, params)


def test_intact_chain_verifies(capsys):
    _write_entries(5)
    assert audit.verify() is None
    assert wangge(["audit", "verify"]) == 0
    assert "审计链完整：共 5 条记录" in capsys.readouterr().out


@pytest.mark.parametrize("column,value", [
    ("reason", "改过的原因"),
    ("actor_name", "someone_else"),
    ("object_id", "120110002001001"),
])
def test_altering_one_row_is_reported_at_that_row(capsys, column, value):
    _write_entries(6)
    _raw(f"UPDATE core_auditentry SET {column} = %s WHERE seq = 4", [value])  # noqa: S608
    broken = audit.verify()
    assert broken is not None and broken.seq == 4
    assert wangge(["audit", "verify"]) == 1
    assert "第 4 条" in capsys.readouterr().out


def test_deleting_a_middle_row_is_reported():
    _write_entries(6)
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [3])
    broken = audit.verify()
    assert broken is not None and broken.seq == 3


def test_deleting_the_last_row_is_reported_against_the_head():
    _write_entries(4)
    _raw("DELETE FROM core_auditentry WHERE seq = %s", [4])
    broken = audit.verify()
    assert broken is not None and broken.seq == 4


def test_inserting_a_forged_row_is_reported():
    _write_entries(3)
    last = AuditEntry.objects.get(seq=3)
    forged = AuditEntry.objects.create(
        seq=4, at=last.at, action="delete_person", object_type="person", object_id="1",
        prev_hash=last.hash, hash="f" * 64)
    AuditHead.objects.filter(id=1).update(seq=4, hash=forged.hash)
    broken = audit.verify()
    assert broken is not None and broken.seq == 4


def test_recomputing_a_tampered_rows_own_hash_still_breaks_the_next_link():
    _write_entries(5)
    entry = AuditEntry.objects.get(seq=2)
    entry.reason = "悄悄改掉"
    new_hash = chain.link_hash(entry.prev_hash, audit._payload(entry))
    _raw("UPDATE core_auditentry SET reason = %s, hash = %s WHERE seq = 2", [entry.reason, new_hash])
    broken = audit.verify()
    assert broken is not None and broken.seq == 3


def test_rolled_back_write_leaves_no_entry():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(None, "update_area", "area", "x")
        raise RuntimeError
    assert AuditEntry.objects.count() == 0
    assert audit.verify() is None


def test_head_exports_checkpoint():
    _write_entries(2)
    head = audit.head()
    assert head["seq"] == 2 and head["hash"] == AuditEntry.objects.get(seq=2).hash
