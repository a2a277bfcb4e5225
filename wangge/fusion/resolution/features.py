"""Record table → one row of comparison features per record, in DuckDB.

Everything per row is SQL so a million records stay vectorised. The only Python
is over DISTINCT values, where the work is linguistic rather than arithmetic:
names (OpenCC traditional → simplified, toneless pinyin per character) and
addresses (`wangge.addresses.normalize.parse`). Real data repeats both heavily,
so the distinct sets are a fraction of the rows.

Columns of the `features` table (NULL where unknown, never ''):

    record_id, source
    id18          ID number normalised: full-width → ASCII, no spacing, upper-case
                  X, 15 digits upgraded to 18. Kept even when invalid, so a typo
                  still compares by edit distance.
    id_valid      checksum, province, date all correct
    name_s        simplified script, no spaces or dots
    name_py       toneless pinyin of name_s, one syllable per character, no spaces
    surname_py    pinyin of the first character
    birth         YYYYMMDD from birth_date, else from the ID's date digits
    phone         digits, country prefix stripped
    gender        'M' / 'F', from the record, else from a valid ID
    addr_code     the library's room code when the address was matched
    addr_room     compound|building|unit|room   (only with a room)
    addr_bldg     compound|building             (only with a building)
    addr_compound compound, or road+door when there is no compound name
"""

# ruff: noqa: S608 -- SQL is built from table names and numbers; data goes in as Arrow
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from datetime import date

import duckdb
import pyarrow as pa

from wangge.addresses.normalize import _simplified, core_name, parse
from wangge.core.identity import ID_WEIGHTS, PROVINCES

RECORD_COLUMNS = ("record_id", "source", "name", "id_number", "phone", "birth_date", "gender",
                  "address")
OPTIONAL_COLUMNS = ("address_code",)

# A "phone" shared by this many records is a placeholder or a switchboard, not
# evidence that the records are one person; blocking on it would also square
# the size of its block.
MAX_PHONE_SHARE = 200

_FULL_WIDTH = "０１２３４５６７８９ｘＸ"
_HALF_WIDTH = "0123456789XX"
_NAME_NOISE = re.compile(r"[\s·•．.\-_'\"“”‘’()（）]+")
POSITION = "__wangge_position"


# --- input -------------------------------------------------------------------


def register_records(con: duckdb.DuckDBPyConnection, records: pa.Table, name: str) -> None:
    """Register `records` as the view `name` with every expected column as
    VARCHAR ('' when absent), so later SQL never asks whether a column exists,
    and `pos`, the row's place in `records`, so results come back in input order."""
    con.register(f"{name}__arrow", records.append_column(
        POSITION, pa.array(range(records.num_rows), pa.int64())))
    present = set(records.column_names)
    cols = [f"{POSITION} as pos"]
    for col in (*RECORD_COLUMNS, *OPTIONAL_COLUMNS):
        expr = f"coalesce(trim(cast({col} as varchar)), '')" if col in present else "''"
        cols.append(f"{expr} as {col}")
    con.execute(f"create or replace temp view {name} as select {', '.join(cols)} "
                f"from {name}__arrow")
    dupes = con.sql(f"select record_id from {name} group by record_id having count(*) > 1 "
                    "limit 3").fetchall()
    if dupes:
        raise ValueError(f"record_id must be unique; repeated: {[d[0] for d in dupes]}")
    if con.sql(f"select 1 from {name} where record_id = '' limit 1").fetchall():
        raise ValueError("record_id must not be empty")


# --- SQL building blocks -------------------------------------------------------


def _id_check_sql(body: str) -> str:
    """GB 11643 check character of a 17-digit SQL string expression."""
    terms = " + ".join(f"{w} * (ascii(substr({body}, {i + 1}, 1)) - 48)"
                       for i, w in enumerate(ID_WEIGHTS))
    return f"substr('10X98765432', (({terms}) % 11) + 1, 1)"


def _macros_sql() -> str:
    provinces = ", ".join(f"'{p}'" for p in sorted(PROVINCES))
    this_year = date.today().year
    return f"""
    create or replace temp macro wg_id_plain(v) as
        upper(regexp_replace(translate(v, '{_FULL_WIDTH}', '{_HALF_WIDTH}'),
                             '[\\s\\-_.·]+', '', 'g'));
    create or replace temp macro wg_id18(v) as
        case when length(v) = 15 and regexp_full_match(v, '[0-9]{{15}}')
             then substr(v, 1, 6) || '19' || substr(v, 7) ||
                  {_id_check_sql("(substr(v, 1, 6) || '19' || substr(v, 7))")}
             else nullif(v, '') end;
    create or replace temp macro wg_id_date(v) as
        case when length(v) = 18
             then try_strptime(substr(v, 7, 8), '%Y%m%d') end;
    create or replace temp macro wg_id_valid(v) as
        coalesce(length(v) = 18
            and regexp_full_match(v, '[0-9]{{17}}[0-9X]')
            and substr(v, 1, 2) in ({provinces})
            and year(wg_id_date(v)) between 1890 and {this_year}
            and wg_id_date(v) <= current_date
            and substr(v, 18, 1) = {_id_check_sql("v")}, false);
    create or replace temp macro wg_birth(v) as
        try_strptime(regexp_replace(
            translate(v, '０１２３４５６７８９', '0123456789'),
            '^\\D*([12][0-9]{{3}})\\D{{0,3}}?([0-9]{{1,2}})\\D{{0,3}}?([0-9]{{1,2}})(\\D.*)?$',
            '\\1-\\2-\\3'), '%Y-%m-%d');
    create or replace temp macro wg_phone(v) as
        nullif(regexp_replace(
            regexp_replace(translate(v, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g'),
            '^(0086|86)(1[3-9][0-9]{{9}})$', '\\2'), '');
    create or replace temp macro wg_gender(v) as
        case when lower(v) in ('男', 'm', 'male', '1', '男性') then 'M'
             when lower(v) in ('女', 'f', 'female', '2', '女性') then 'F' end;
    """


# --- names ---------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    if not ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"):
        return ch.lower()
    return lazy_pinyin(ch)[0]


def normalise_name(raw: str) -> str:
    """Simplified script, half-width, no spaces or dots: "張 偉" → "张伟"."""
    text = _NAME_NOISE.sub("", unicodedata.normalize("NFKC", raw or ""))
    return _simplified(text) if text else ""


def name_pinyin(name: str) -> str:
    """Toneless pinyin, one syllable per character so homophones compare equal.
    Character by character on purpose: a polyphonic character then always reads
    the same, whichever name it stands in."""
    return "".join(_char_pinyin(ch) for ch in name)


def _name_rows(raw_names: Iterable[str]) -> pa.Table:
    raws, simple, pinyin, surname = [], [], [], []
    for raw in raw_names:
        s = normalise_name(raw)
        raws.append(raw)
        simple.append(s or None)
        pinyin.append(name_pinyin(s) or None)
        surname.append(_char_pinyin(s[0]) if s else None)
    return pa.table({"name": pa.array(raws, pa.string()), "name_s": pa.array(simple, pa.string()),
                     "name_py": pa.array(pinyin, pa.string()),
                     "surname_py": pa.array(surname, pa.string())})


# --- addresses -------------------------------------------------------------------


def address_keys(text: str) -> tuple[str | None, str | None, str | None]:
    """(room, building, compound) keys of a free-text address; None where the
    address does not say. The road is left out once a compound is named, because
    one department writes "津塘路100号华明家园…" and another just "华明家园…"."""
    p = parse(text)
    place = core_name(p.compound) if p.compound else (f"{p.road}{p.door_number}" if p.road else "")
    if not place:
        return None, None, None
    bldg = f"{place}|{p.building}" if p.building else None
    room = f"{place}|{p.building}|{p.unit}|{p.room}" if p.building and p.room else None
    return room, bldg, place


def _address_rows(texts: Iterable[str]) -> pa.Table:
    raws: list[str] = []
    rooms: list[str | None] = []
    bldgs: list[str | None] = []
    compounds: list[str | None] = []
    for text in texts:
        room, bldg, compound = address_keys(text)
        raws.append(text)
        rooms.append(room)
        bldgs.append(bldg)
        compounds.append(compound)
    return pa.table({"address": pa.array(raws, pa.string()), "addr_room": pa.array(rooms, pa.string()),
                     "addr_bldg": pa.array(bldgs, pa.string()),
                     "addr_compound": pa.array(compounds, pa.string())})


def _distinct(con: duckdb.DuckDBPyConnection, source: str, column: str) -> list[str]:
    rows = con.sql(f"select distinct {column} from {source} where {column} <> ''").to_arrow_table()
    return [str(v) for v in rows.column(0).to_pylist()]


# --- the feature table -----------------------------------------------------------


def build_features(con: duckdb.DuckDBPyConnection, source: str, target: str = "features") -> None:
    """Create table `target` of comparison features from the view `source`
    (made by `register_records`)."""
    con.execute(_macros_sql())
    names = _name_rows(_distinct(con, source, "name"))
    addresses = _address_rows(_distinct(con, source, "address"))
    con.register(f"{target}__names", names)
    con.register(f"{target}__addresses", addresses)
    con.execute(f"""
    create or replace table {target} as
    with base as (
        select record_id, nullif(source, '') as source, name, address,
               wg_id18(wg_id_plain(id_number)) as id18,
               wg_birth(birth_date) as birth_given,
               wg_phone(phone) as phone,
               wg_gender(gender) as gender_given,
               nullif(upper(regexp_replace(address_code, '\\s+', '', 'g')), '') as addr_code
        from {source}
    ), ided as (
        select *, wg_id_valid(id18) as id_valid, wg_id_date(id18) as id_date from base
    ), shared_phones as (
        select phone from base where phone is not null group by phone
        having count(*) > {MAX_PHONE_SHARE}
    )
    select i.record_id, i.source, i.id18, i.id_valid,
           n.name_s, n.name_py, n.surname_py,
           -- From the ID's date digits even when its check digit fails: a typo
           -- lands outside those eight digits ten times in eighteen.
           strftime(coalesce(i.birth_given,
                             case when year(i.id_date) >= 1890 and i.id_date <= current_date
                                  then i.id_date end), '%Y%m%d') as birth,
           case when length(i.phone) >= 7 and sp.phone is null then i.phone end as phone,
           coalesce(i.gender_given,
                    case when i.id_valid then
                         case when (ascii(substr(i.id18, 17, 1)) - 48) % 2 = 1 then 'M' else 'F' end
                    end) as gender,
           i.addr_code, a.addr_room, a.addr_bldg, a.addr_compound
    from ided i
    left join {target}__names n on n.name = i.name
    left join {target}__addresses a on a.address = i.address
    left join shared_phones sp on sp.phone = i.phone
    order by i.record_id
    """)
    con.unregister(f"{target}__names")
    con.unregister(f"{target}__addresses")
