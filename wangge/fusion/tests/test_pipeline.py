"""A department file through the whole pipeline: read, validate, land, link,
golden record with provenance, error file for the bad rows."""

from __future__ import annotations

import csv

import pytest

from wangge.core.models import AuditEntry
from wangge.fusion.services import SameFile, error_file_path, import_file
from wangge.registry.models import Conflict, Person, Provenance, SourceRecord
from wangge.testing import registry as reg
from wangge.testing.addresses import ROOM_3_2_201

pytestmark = pytest.mark.django_db


def test_good_rows_land_and_bad_rows_are_reported_with_line_and_reason(sources, police_file):
    batch = import_file(None, source=sources["police"], kind="person", path=police_file)
    assert (batch.status, batch.rows_ok, batch.rows_bad) == ("done", 3, 2)
    reasons = {e["line"]: e["reason"] for e in batch.errors}
    assert "校验位错误" in reasons[5]
    assert "2999" in reasons[6]
    with error_file_path(batch).open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["行号", "错误原因", "编号"]
    assert [r[0] for r in rows[1:]] == ["5", "6"]
    assert rows[1][2] == "GA-4"


def test_the_same_file_twice_changes_nothing(sources, police_file):
    import_file(None, source=sources["police"], kind="person", path=police_file)
    before = (SourceRecord.objects.count(), Person.objects.count(), AuditEntry.objects.count())
    with pytest.raises(SameFile, match="未重复导入"):
        import_file(None, source=sources["police"], kind="person", path=police_file)
    assert (SourceRecord.objects.count(), Person.objects.count(), AuditEntry.objects.count()) == before


def test_same_rows_in_a_new_file_are_unchanged_and_a_changed_row_is_a_new_version(sources, police_file, tmp_path):
    import_file(None, source=sources["police"], kind="person", path=police_file)
    rows = [list(r) for r in reg.POLICE_ROWS]
    rows[0][5] = "13811112222"  # 王伟 changed his phone
    again = reg.write_csv(tmp_path / "again.csv", reg.POLICE_HEADERS, rows, "utf-8")
    batch = import_file(None, source=sources["police"], kind="person", path=again)
    assert (batch.rows_ok, batch.rows_unchanged, batch.rows_bad) == (1, 2, 2)
    assert SourceRecord.objects.filter(record_key="GA-1", superseded=False).count() == 1
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    assert "13811112222" in wang.phones
    old = SourceRecord.objects.get(record_key="GA-1", superseded=True)
    assert not Provenance.objects.filter(record=old).exists(), "a replaced version is no longer evidence"


def test_departments_records_link_into_one_golden_person_with_provenance(fused):
    assert Person.objects.count() == 3
    wang = Person.objects.get(id_number=reg.WANG_WEI)
    assert wang.name == "王伟"
    assert wang.address is not None and wang.address.code == ROOM_3_2_201
    assert wang.grid_code == wang.address.grid_code
    assert set(wang.records.values_list("source__code", flat=True)) == {"police", "health"}
    chosen = Provenance.objects.get(person=wang, field="name", chosen=True)
    assert chosen.source.code == "police"
    li = Person.objects.get(id_number=reg.LI_NA)
    assert li.records.count() == 2, "the health record without an ID links by name, birth date and address"


def test_disagreeing_values_are_kept_as_conflicts(fused, tmp_path):
    rows = [["", "李娜", "1990-05-06", "13955556666", "华明家园1号楼1单元101室"]]
    path = reg.write_csv(tmp_path / "later.csv", reg.HEALTH_HEADERS, rows)
    import_file(None, source=fused["health"], kind="person", path=path)
    li = Person.objects.get(id_number=reg.LI_NA)
    assert set(li.phones) == {"13900001111", "13955556666"}
    assert not Conflict.objects.filter(person=li, field="phones").exists(), "phones are a list, not a conflict"


def test_tags_from_a_department_reach_the_golden_record(fused):
    zhao = Person.objects.get(id_number=reg.ZHAO_LIU)
    assert set(zhao.tags.values_list("tag", flat=True)) == {"elderly_alone", "dibao"}


def test_an_import_is_audited_with_its_counts(fused):
    entry = AuditEntry.objects.filter(action="import").order_by("seq").first()
    assert entry is not None and "错误2行" in entry.reason


def test_a_file_without_a_name_column_fails_with_a_message_and_lands_nothing(sources, tmp_path):
    path = reg.write_csv(tmp_path / "x.csv", ["身份证号", "电话"], [[reg.WANG_WEI, "13812345678"]])
    batch = import_file(None, source=sources["police"], kind="person", path=path)
    assert batch.status == "failed" and "姓名" in batch.message
    assert not SourceRecord.objects.exists()


def test_an_empty_file_fails_clearly(sources, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    batch = import_file(None, source=sources["police"], kind="person", path=path)
    assert batch.status == "failed" and "为空" in batch.message


def test_duplicate_record_ids_in_one_file_refuse_the_later_row(sources, tmp_path):
    rows = [reg.POLICE_ROWS[0], [*reg.POLICE_ROWS[1][:0], "GA-1", *reg.POLICE_ROWS[1][1:]]]
    path = reg.write_csv(tmp_path / "dup.csv", reg.POLICE_HEADERS, rows)
    batch = import_file(None, source=sources["police"], kind="person", path=path)
    assert batch.rows_ok == 1
    assert "与第2行重复" in batch.errors[0]["reason"]


def test_mapping_is_saved_per_source(fused):
    fused["police"].refresh_from_db()
    assert fused["police"].mappings["person"]["公民身份号码"] == "id_number"
