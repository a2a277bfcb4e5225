from __future__ import annotations

import csv

import pytest

from wangge.cli import main
from wangge.registry.models import Person
from wangge.testing import registry as reg


def test_dedupe_writes_one_cluster_per_person(tmp_path):
    rows = [["r1", "police", "王伟", reg.WANG_WEI, "13812345678", "1980-01-02", "男", "华明家园3号楼2单元201室"],
            ["r2", "health", "王偉", reg.WANG_WEI[:6] + reg.WANG_WEI[8:17], "", "1980/1/2", "", "华明家园3-2-201"],
            ["r3", "health", "李娜", reg.LI_NA, "13900001111", "", "", ""]]
    src = reg.write_csv(tmp_path / "records.csv", ["record_id", "source", "name", "id_number", "phone",
                                                   "birth_date", "gender", "address"], rows, "gb18030")
    out = tmp_path / "clusters.csv"
    assert main(["fusion", "dedupe", str(src), "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert clusters["r1"] == clusters["r2"] != clusters["r3"]


def test_dedupe_without_out_is_refused(tmp_path, capsys):
    assert main(["fusion", "dedupe", str(tmp_path / "x.csv")]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.django_db
def test_import_from_the_command_line(sources, police_file, capsys):
    assert main(["fusion", "import", str(police_file), "--source", "police"]) == 0
    out = capsys.readouterr().out
    assert "入库 3 行" in out and "错误 2 行" in out and "错误文件" in out
    assert Person.objects.count() == 3
    assert main(["fusion", "import", str(police_file), "--source", "nobody"]) == 2
    assert main(["fusion", "import", str(police_file), "--source", "police"]) == 1
    assert "未重复导入" in capsys.readouterr().err
