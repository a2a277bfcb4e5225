from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.fusion.reading import ReadError, Table, read_table, sniff_kind

HEADER = "姓名,身份证号,手机\r\n"
ROW = "张三,110105198001020011,13812345678\r\n"


def write(tmp_path: Path, data: bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def read_text(tmp_path: Path, text: str, encoding: str = "utf-8") -> Table:
    return read_table(write(tmp_path, text.encode(encoding)))


def save_workbook(tmp_path: Path, rows: Sequence[Sequence[object]], name: str = "upload.xlsx",
                  title: str = "人口") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(list(row))
    path = tmp_path / name
    wb.save(path)
    return path


# --- encodings --------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "encoding", "reported"), [
    (b"", "utf-8", "utf-8"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"", "gbk", "gb18030"),
])
def test_common_encodings_are_detected(tmp_path: Path, prefix: bytes, encoding: str,
                                       reported: str) -> None:
    table = read_table(write(tmp_path, prefix + (HEADER + ROW).encode(encoding)))
    assert table.encoding == reported
    assert table.columns == ["姓名", "身份证号", "手机"]
    assert table.rows[0].values == {"姓名": "张三", "身份证号": "110105198001020011",
                                    "手机": "13812345678"}


@pytest.mark.parametrize("name", ["王㛃", "李𠀀", "龚䶮"])
def test_gb18030_only_characters_survive(tmp_path: Path, name: str) -> None:
    # Not in GBK: a reader that decodes as GBK alone would refuse the file.
    table = read_text(tmp_path, f"姓名,手机\n{name},13812345678\n", "gb18030")
    assert table.encoding == "gb18030"
    assert table.rows[0].values["姓名"] == name


def test_utf16_from_excel_unicode_text(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "姓名\t手机\r\n张三\t13812345678\r\n".encode("utf-16")))
    assert table.encoding == "utf-16"
    assert table.rows[0].values == {"姓名": "张三", "手机": "13812345678"}


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="无法识别文件编码"):
        read_table(write(tmp_path, bytes(range(128, 256)) * 4))


def test_binary_content_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="二进制"):
        read_table(write(tmp_path, b"name,phone\n\x00\x01\x02,3\n"))


# --- delimiters -------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "，"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    lines = [["姓名", "手机", "住址"], ["张三", "13812345678", "华明家园3号楼"],
             ["李四", "13987654321", "丽苑小区2栋"]]
    table = read_text(tmp_path, "\n".join(delimiter.join(cells) for cells in lines) + "\n")
    assert table.columns == ["姓名", "手机", "住址"]
    assert [r.values["手机"] for r in table.rows] == ["13812345678", "13987654321"]


def test_full_width_commas_inside_cells_do_not_win(tmp_path: Path) -> None:
    text = "姓名,标签\n张三,低保，残疾\n李四,独居，低保\n"
    table = read_text(tmp_path, text)
    assert table.rows[0].values == {"姓名": "张三", "标签": "低保，残疾"}


def test_single_column_defaults_to_comma(tmp_path: Path) -> None:
    table = read_text(tmp_path, "姓名\n张三\n李四\n")
    assert table.columns == ["姓名"]
    assert [r.values["姓名"] for r in table.rows] == ["张三", "李四"]


# --- empty, size, format ------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_empty_file(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ReadError, match="文件为空"):
        read_table(write(tmp_path, data))


def test_only_blank_cells_is_empty(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="文件为空"):
        read_text(tmp_path, ",,,\n,,\n")


def test_header_only_gives_no_rows(tmp_path: Path) -> None:
    table = read_text(tmp_path, HEADER)
    assert table.columns == ["姓名", "身份证号", "手机"]
    assert table.rows == []


def test_oversize_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + ROW * 100).encode())
    with pytest.raises(ReadError, match=r"超过上限1\.0KB"):
        read_table(path, max_bytes=1024)


def test_legacy_xls_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "人口.csv")
    with pytest.raises(ReadError, match=r"另存为.*xlsx或csv"):
        read_table(path)


def test_sniff_by_content_not_name() -> None:
    assert sniff_kind(b"PK\x03\x04rest") == "xlsx"
    assert sniff_kind("姓名,手机".encode()) == "csv"
    with pytest.raises(ReadError):
        sniff_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path: Path) -> None:
    path = save_workbook(tmp_path, [["姓名"], ["张三"]], name="人口.csv")
    assert read_table(path).kind == "xlsx"


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("人口.csv", "姓名\n张三\n")
    with pytest.raises(ReadError, match="不是Excel表格"):
        read_table(path)


def test_truncated_workbook(tmp_path: Path) -> None:
    path = save_workbook(tmp_path, [["姓名"], ["张三"]])
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ReadError, match="损坏"):
        read_table(path)


def _with_member(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)


def test_zip_bomb_by_total_size(tmp_path: Path) -> None:
    # The sheet itself is legitimate but unpacks to far more than the limit allows.
    path = save_workbook(tmp_path, [["备注"]] + [["同一句话" * 50]] * 2000)
    size = path.stat().st_size
    with pytest.raises(ReadError, match="解压后"):
        read_table(path, max_bytes=size + 100)


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = save_workbook(tmp_path, [["姓名"], ["张三"]])
    _with_member(path, "xl/media/padding.bin", b"\x00" * (8 * 1024 * 1024))
    with pytest.raises(ReadError, match="压缩比"):
        read_table(path)


# --- headers ------------------------------------------------------------------


def test_duplicate_headers_are_listed(tmp_path: Path) -> None:
    with pytest.raises(ReadError) as caught:
        read_text(tmp_path, "姓名,电话,姓名, 电话 ,住址\n张三,1,2,3,4\n")
    assert "“姓名”" in str(caught.value)
    assert "“电话”" in str(caught.value)
    assert "住址" not in str(caught.value)


def test_headers_are_cleaned_and_blank_ones_named(tmp_path: Path) -> None:
    table = read_text(tmp_path, "\ufeff 姓名 ,,\"身份证号\n（18位）\",ＩＤ,,\n张三,x,1,2,,\n")
    assert table.columns == ["姓名", "第2列", "身份证号 (18位)", "ID"]
    assert table.rows[0].values["第2列"] == "x"


def test_title_row_above_header_is_skipped(tmp_path: Path) -> None:
    table = read_text(tmp_path, "华明社区人口登记表,,\n姓名,手机,住址\n张三,13812345678,华明家园\n")
    assert table.columns == ["姓名", "手机", "住址"]
    assert table.header_line == 2
    assert table.rows[0].line == 3


# --- rows ---------------------------------------------------------------------


def test_line_numbers_with_embedded_newlines_and_blank_rows(tmp_path: Path) -> None:
    text = ('姓名,住址,手机\r\n'
            '张三,"华明家园\r\n3号楼\r\n201",13812345678\r\n'
            ',,\r\n'
            '\r\n'
            '李四,丽苑,13987654321\r\n')
    table = read_text(tmp_path, text)
    assert [r.line for r in table.rows] == [2, 7]
    assert table.rows[0].values["住址"] == "华明家园\r\n3号楼\r\n201"


def test_short_rows_are_padded_long_rows_flagged(tmp_path: Path) -> None:
    table = read_text(tmp_path, "姓名,手机,住址\n张三\n李四,139,丽苑,多余,\n王五,137,华明,,\n")
    short, long, trailing = table.rows
    assert short.values == {"姓名": "张三", "手机": "", "住址": ""}
    assert short.problems == []
    assert long.problems and "多出1个" in long.problems[0] and "第4列" in long.problems[0]
    assert trailing.problems == []  # empty cells past the header are only layout


def test_values_are_stripped_not_normalised(tmp_path: Path) -> None:
    table = read_text(tmp_path, "姓名,手机\n  張三  ,\t１３８１２３４５６７８ \n")
    assert table.rows[0].values == {"姓名": "張三", "手机": "１３８１２３４５６７８"}


@pytest.mark.parametrize("cell", ['"=HYPERLINK(""http://x"",""点我"")"', "=1+1", "@SUM(A1:A2)",
                                  "+A1", "-SUM(A1)", "-(1)", "=cmd|' /C calc'!A0"])
def test_formula_injection_in_csv(tmp_path: Path, cell: str) -> None:
    table = read_text(tmp_path, f"姓名,备注\n张三,{cell}\n")
    [problem] = table.rows[0].problems
    assert problem.startswith("第2列“备注”是公式（")
    assert "请粘贴为数值后再导入" in problem


@pytest.mark.parametrize("cell", ["+86 138 1234 5678", "+8613812345678", "-5", "-", "--",
                                  "-无-", "@", "13812345678"])
def test_data_that_looks_like_a_formula_is_not_one(tmp_path: Path, cell: str) -> None:
    table = read_text(tmp_path, f"姓名,备注\n张三,{cell}\n")
    assert table.rows[0].problems == []
    assert table.rows[0].values["备注"] == cell


def test_text_kept_with_equals_quote_is_unwrapped(tmp_path: Path) -> None:
    table = read_text(tmp_path, '姓名,身份证号\n张三,"=""110105198001020011"""\n')
    assert table.rows[0].problems == []
    assert table.rows[0].values["身份证号"] == "110105198001020011"


def test_id_in_scientific_notation_in_csv(tmp_path: Path) -> None:
    table = read_text(tmp_path, "姓名,身份证号,人数\n张三,1.10105E+17,1E+2\n")
    [problem] = table.rows[0].problems
    assert "第2列“身份证号”" in problem
    assert "丢失" in problem


def test_unclosed_quote_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="第3行的英文双引号没有闭合"):
        read_text(tmp_path, '姓名,住址\n张三,华明\n李四,"丽苑\n王五,华明\n')


# --- xlsx -----------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return save_workbook(tmp_path, [
        ["姓名", "身份证号", "出生日期", "手机", "年龄", "录入时间"],
        ["张三", "110105198001020011", dt.datetime(1980, 1, 2), 13812345678.0, 45,
         dt.datetime(2024, 3, 1, 8, 30)],
        [],
        ["李四", 1.10105198001021e17, dt.date(1990, 5, 6), 13987654321, "=2025-1990", None],
        ["王五", "110105198001020011", "1980-01-02", "+86 138 1234 5678", 3.5, None],
    ])


def test_xlsx_values_as_the_clerk_saw_them(workbook: Path) -> None:
    table = read_table(workbook)
    assert (table.kind, table.encoding, table.sheet) == ("xlsx", "xlsx", "人口")
    first = table.rows[0]
    assert first.line == 2
    assert first.problems == []
    assert first.values == {"姓名": "张三", "身份证号": "110105198001020011",
                            "出生日期": "1980-01-02", "手机": "13812345678", "年龄": "45",
                            "录入时间": "2024-03-01 08:30:00"}
    assert table.rows[2].values["年龄"] == "3.5"


def test_xlsx_blank_rows_skipped_but_counted(workbook: Path) -> None:
    assert [r.line for r in read_table(workbook).rows] == [2, 4, 5]


def test_xlsx_formula_and_lost_digits_make_row_problems(workbook: Path) -> None:
    row = read_table(workbook).rows[1]
    assert row.values["出生日期"] == "1990-05-06"
    lost, formula = row.problems
    assert lost.startswith("B列“身份证号”存成了数字") and "丢失" in lost
    assert formula == "E列“年龄”是公式（=2025-1990），请粘贴为数值后再导入"


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    path = save_workbook(tmp_path, [["说明"], ["本表按社区填写"]], title="说明")
    wb = openpyxl.load_workbook(path)
    data = wb.create_sheet("人口")
    data.append(["姓名", "手机"])
    data.append(["张三", "13812345678"])
    wb.save(path)
    assert read_table(path).columns == ["说明"]
    assert read_table(path, sheet="人口").rows[0].values["姓名"] == "张三"
    with pytest.raises(ReadError, match=r"找不到工作表“单位”.*“说明”、“人口”"):
        read_table(path, sheet="单位")


def test_xlsx_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="文件为空"):
        read_table(save_workbook(tmp_path, []))


def test_xlsx_duplicate_headers(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="重复"):
        read_table(save_workbook(tmp_path, [["姓名", "姓名"], ["张三", "李四"]]))


# --- robustness ---------------------------------------------------------------


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(max_size=200).map(lambda s: s.encode()))
def test_any_bytes_give_a_table_or_a_read_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        table = read_table(path)
    except ReadError as exc:
        assert str(exc)
    else:
        assert all(set(r.values) == set(table.columns) for r in table.rows)


def test_bare_title_line_above_a_tab_separated_header(tmp_path: Path) -> None:
    table = read_text(tmp_path, "华明社区人口登记表\n姓名\t手机\n张三\t13812345678\n")
    assert table.columns == ["姓名", "手机"]
    assert (table.header_line, table.rows[0].line) == (2, 3)


def test_xlsx_data_starting_lower_keeps_sheet_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "upload.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for column, (head, value) in enumerate([("姓名", "张三"), ("手机", "13812345678")], start=2):
        ws.cell(row=3, column=column, value=head)
        ws.cell(row=5, column=column, value=value)
    wb.save(path)
    table = read_table(path)
    assert table.header_line == 3
    assert table.columns == ["第1列", "姓名", "手机"]
    assert table.rows[0].line == 5
    assert table.rows[0].values["手机"] == "13812345678"


def test_formula_hidden_in_equals_quote_is_still_a_formula(tmp_path: Path) -> None:
    table = read_text(tmp_path, '姓名,备注\n张三,"=""=HYPERLINK(1)"""\n')
    assert table.rows[0].problems == ["第2列“备注”是公式（=HYPERLINK(1)），请粘贴为数值后再导入"]


def test_stray_quote_in_a_multiline_record_mid_file_is_not_an_open_quote(tmp_path: Path) -> None:
    table = read_text(tmp_path, '名称,备注\n电视,"客厅\n卧室",55"屏\n冰箱,厨房\n')
    assert [r.line for r in table.rows] == [2, 4]


def _rewrite_member(path: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = change(members[name])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_xlsx_exact_long_integer_from_a_program_is_kept(tmp_path: Path) -> None:
    # openpyxl itself writes 15 digits; other programs write the exact integer.
    path = save_workbook(tmp_path, [["身份证号", "截断"], [1, 2]])
    _rewrite_member(path, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"<v>1</v>", b"<v>110105198001020011</v>").replace(b"<v>2</v>", b"<v>110105198001020000</v>"))
    row = read_table(path).rows[0]
    assert row.values["身份证号"] == "110105198001020011"
    [problem] = row.problems
    assert problem.startswith("B列“截断”存成了数字")
