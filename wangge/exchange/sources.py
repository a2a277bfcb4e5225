"""What a catalog reads: the registry's people, houses and organisations, or
the rows of a dataset the department uploaded.

Each source names the fields a catalog item may be backed by (with the type,
grade and mask a new item gets by default) and answers three questions for
the gateway: a page of rows, does a row match these values (verification),
and which rows carry these keys (batch comparison). Every answer is bounded by
an area prefix, the grant's data range.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from wangge.core import identity
from wangge.exchange.models import Backing, Catalog, DatasetRow, ItemType, Mask
from wangge.registry import vocab
from wangge.registry.models import House, Organisation, Person, PersonTag

Row = dict[str, Any]


@dataclass(frozen=True)
class FieldSpec:
    label: str
    type: str = ItemType.STRING
    grade: str = "internal"
    mask: str = Mask.NONE
    # Indexed, so a filter on it does not scan the table.
    filterable: bool = False


@dataclass(frozen=True)
class Filter:
    field: str
    value: str
    prefix: bool = False


def normalise(field_type: str, field: str, value: str) -> str:
    """A value as the source stores it: a 15-digit ID upgraded, full-width
    digits and traditional script folded."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    if field == "id_number":
        return identity.normalize_id_number(value)
    if field == "credit_code":
        return value.replace(" ", "").upper()
    if field in ("phone", "phones"):
        return identity.normalize_phone(value)
    if field in ("name", "legal_rep", "owner_name"):
        from wangge.fusion.validation import normalize_name

        return normalize_name(value)
    return value


class Source:
    fields: dict[str, FieldSpec] = {}
    area_field = "grid_code"
    about_people = False

    def page(self, catalog: Catalog, area: str, filters: list[Filter], after: int,
             limit: int, wanted: set[str] | None = None) -> list[tuple[int, Row]]:
        """Rows after the cursor; `wanted` names the fields the caller will
        read, so a source may skip what costs a query (a person's tags)."""
        raise NotImplementedError

    def verify(self, catalog: Catalog, area: str, values: dict[str, str]) -> int | None:
        rows = self.page(catalog, area, [Filter(f, v) for f, v in values.items()], 0, 1)
        return rows[0][0] if rows else None

    def compare(self, catalog: Catalog, area: str, field: str,
                values: list[str]) -> dict[str, tuple[int, Row]]:
        raise NotImplementedError


def _filtered(qs: QuerySet[Any], area: str, area_field: str, filters: list[Filter]) -> QuerySet[Any]:
    # A prefix filter inside the area already keeps the rows in it; two LIKEs
    # on one column can lead the planner away from the index.
    inside = any(f.field == area_field and f.prefix and f.value.startswith(area) for f in filters)
    if area and not inside:
        qs = qs.filter(**{f"{area_field}__startswith": area})
    for f in filters:
        qs = qs.filter(**{f"{f.field}__startswith" if f.prefix else f.field: f.value})
    return qs


class PersonSource(Source):
    about_people = True
    fields = {
        "name": FieldSpec("姓名", grade="internal", mask=Mask.NAME, filterable=True),
        "id_number": FieldSpec("公民身份号码", grade="core", mask=Mask.ID_NUMBER, filterable=True),
        "gender": FieldSpec("性别", grade="internal"),
        "birth_date": FieldSpec("出生日期", ItemType.DATE, "sensitive", Mask.YEAR, filterable=True),
        "phones": FieldSpec("联系电话", ItemType.LIST, "sensitive", Mask.PHONE),
        "ethnicity": FieldSpec("民族", grade="internal"),
        "hukou_area": FieldSpec("户籍地", grade="internal", mask=Mask.TEXT),
        "residence_type": FieldSpec("人口类型", grade="internal"),
        "address": FieldSpec("现住址", grade="internal", mask=Mask.TEXT),
        "grid_code": FieldSpec("所在网格", ItemType.AREA, "public", filterable=True),
        "tags": FieldSpec("人群类别", ItemType.LIST, "sensitive", Mask.HIDE),
    }
    _columns = ("pk", "name", "id_number", "gender", "birth_date", "phones", "ethnicity",
                "hukou_area", "residence_type", "address__full_name", "address_text", "grid_code")

    def _rows(self, qs: QuerySet[Person], wanted: set[str]) -> list[tuple[int, Row]]:
        raw = list(qs.values(*self._columns))
        tags: dict[int, list[str]] = {}
        if "tags" in wanted and raw:
            for pid, tag in PersonTag.objects.filter(person_id__in=[r["pk"] for r in raw]).values_list(
                    "person_id", "tag"):
                tags.setdefault(pid, []).append(vocab.TAGS.get(tag, tag))
        return [(r["pk"], {
            "name": r["name"], "id_number": r["id_number"] or "",
            "gender": vocab.GENDERS.get(r["gender"], ""),
            "birth_date": r["birth_date"].isoformat() if r["birth_date"] else "",
            "phones": list(r["phones"] or []), "ethnicity": r["ethnicity"],
            "hukou_area": r["hukou_area"],
            "residence_type": vocab.RESIDENCE_TYPES.get(r["residence_type"], r["residence_type"]),
            "address": r["address__full_name"] or r["address_text"], "grid_code": r["grid_code"],
            "tags": sorted(tags.get(r["pk"], [])),
        }) for r in raw]

    def page(self, catalog: Catalog, area: str, filters: list[Filter], after: int,
             limit: int, wanted: set[str] | None = None) -> list[tuple[int, Row]]:
        qs = _filtered(Person.objects.filter(pk__gt=after), area, "grid_code", filters)
        return self._rows(qs.order_by("pk")[:limit], set(self.fields) if wanted is None else wanted)

    def verify(self, catalog: Catalog, area: str, values: dict[str, str]) -> int | None:
        # Identity verification is the exchange's most frequent call: one
        # hand-written statement instead of compiling a query each time.
        columns = {f.name: f.column for f in Person._meta.concrete_fields
                   if f.get_internal_type() == "CharField"}
        if not set(values) <= set(columns):
            qs = _filtered(Person.objects.all(), area, "grid_code", [Filter(f, v) for f, v in values.items()])
            return qs.values_list("pk", flat=True).first()
        quote = connection.ops.quote_name
        where = [f"{quote(columns[f])} = %s" for f in sorted(values)]
        params: list[str] = [values[f] for f in sorted(values)]
        if area:
            where.append(f"{quote('grid_code')} LIKE %s")
            params.append(area.replace("\\", "").replace("%", "").replace("_", "") + "%")
        sql = (f"SELECT {quote('id')} FROM {quote(Person._meta.db_table)} "  # noqa: S608 - quoted identifiers
               f"WHERE {' AND '.join(where)} LIMIT 1")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return int(row[0]) if row else None

    def compare(self, catalog: Catalog, area: str, field: str,
                values: list[str]) -> dict[str, tuple[int, Row]]:
        qs = _filtered(Person.objects.filter(**{f"{field}__in": values}), area, "grid_code", [])
        return {str(row[field]): (pk, row) for pk, row in self._rows(qs, set(self.fields))}


class HouseSource(Source):
    fields = {
        "address": FieldSpec("房屋地址", grade="public", filterable=False),
        "address_code": FieldSpec("地址编码", grade="public", filterable=True),
        "grid_code": FieldSpec("所在网格", ItemType.AREA, "public", filterable=True),
        "use": FieldSpec("房屋用途", grade="internal"),
        "owner_name": FieldSpec("产权人", grade="internal", mask=Mask.NAME),
        "resident_count": FieldSpec("登记居住人数", ItemType.INTEGER, "internal"),
        "household_count": FieldSpec("登记户数", ItemType.INTEGER, "internal"),
    }

    def _rows(self, qs: QuerySet[House]) -> list[tuple[int, Row]]:
        raw = list(qs.values("pk", "address_id", "address__code", "address__full_name", "grid_code",
                             "use", "owner__name"))
        ids = [r["address_id"] for r in raw]
        residents = dict(Person.objects.filter(address_id__in=ids).values("address_id")
                         .annotate(n=Count("pk")).values_list("address_id", "n"))
        from wangge.registry.models import Household

        households = dict(Household.objects.filter(address_id__in=ids).values("address_id")
                          .annotate(n=Count("pk")).values_list("address_id", "n"))
        return [(r["pk"], {
            "address": r["address__full_name"], "address_code": r["address__code"],
            "grid_code": r["grid_code"], "use": vocab.HOUSE_USES.get(r["use"], r["use"]),
            "owner_name": r["owner__name"] or "",
            "resident_count": residents.get(r["address_id"], 0),
            "household_count": households.get(r["address_id"], 0),
        }) for r in raw]

    def page(self, catalog: Catalog, area: str, filters: list[Filter], after: int,
             limit: int, wanted: set[str] | None = None) -> list[tuple[int, Row]]:
        renamed = [Filter("address__code" if f.field == "address_code" else f.field, f.value, f.prefix)
                   for f in filters]
        qs = _filtered(House.objects.filter(pk__gt=after), area, "grid_code", renamed)
        return self._rows(qs.order_by("pk")[:limit])

    def compare(self, catalog: Catalog, area: str, field: str,
                values: list[str]) -> dict[str, tuple[int, Row]]:
        # Free-text addresses go through the matcher: the standard address each most likely means.
        codes = {v: v for v in values} if field == "address_code" else _address_codes(values, area)
        qs = _filtered(House.objects.filter(address__code__in=set(codes.values())), area, "grid_code", [])
        by_code = {row["address_code"]: (pk, row) for pk, row in self._rows(qs)}
        return {value: by_code[code] for value, code in codes.items() if code in by_code}


def _address_codes(texts: Iterable[str], area: str) -> dict[str, str]:
    from wangge.addresses.selectors import address_index

    index = address_index()
    allow: Callable[[Any], bool] | None = (lambda row: row.grid_code.startswith(area)) if area else None
    out: dict[str, str] = {}
    for text in texts:
        if not text.strip():
            continue
        _parsed, result = index.match_text(text, allow)
        # A room asked for and only its building found is not the same house.
        if result.match is not None and not result.unmatched:
            out[text] = result.match.code
    return out


class OrganisationSource(Source):
    fields = {
        "name": FieldSpec("单位名称", grade="public", filterable=True),
        "credit_code": FieldSpec("统一社会信用代码", grade="public", filterable=True),
        "org_type": FieldSpec("单位类型", grade="public"),
        "address": FieldSpec("单位地址", grade="public"),
        "grid_code": FieldSpec("所在网格", ItemType.AREA, "public", filterable=True),
        "legal_rep": FieldSpec("法定代表人", grade="internal", mask=Mask.NAME),
        "phone": FieldSpec("联系电话", grade="sensitive", mask=Mask.PHONE),
    }

    def _rows(self, qs: QuerySet[Organisation]) -> list[tuple[int, Row]]:
        return [(r["pk"], {
            "name": r["name"], "credit_code": r["credit_code"] or "",
            "org_type": vocab.ORG_TYPES.get(r["org_type"], r["org_type"]),
            "address": r["address__full_name"] or r["address_text"], "grid_code": r["grid_code"],
            "legal_rep": r["legal_rep"], "phone": r["phone"],
        }) for r in qs.values("pk", "name", "credit_code", "org_type", "address__full_name",
                              "address_text", "grid_code", "legal_rep", "phone")]

    def page(self, catalog: Catalog, area: str, filters: list[Filter], after: int,
             limit: int, wanted: set[str] | None = None) -> list[tuple[int, Row]]:
        qs = _filtered(Organisation.objects.filter(pk__gt=after), area, "grid_code", filters)
        return self._rows(qs.order_by("pk")[:limit])

    def compare(self, catalog: Catalog, area: str, field: str,
                values: list[str]) -> dict[str, tuple[int, Row]]:
        qs = _filtered(Organisation.objects.filter(**{f"{field}__in": values}), area, "grid_code", [])
        return {str(row[field]): (pk, row) for pk, row in self._rows(qs)}


def _text(key: str) -> Cast:
    # A JSON key compared as text: without the cast Django compares JSON values
    # (and quotes the right-hand side as JSON), which SQLite rejects.
    return Cast(KeyTextTransform(key, "data"), output_field=TextField())


class DatasetSource(Source):
    """Rows keyed by item key (services.upload_dataset stores them so); an
    item of type area bounds the rows by the grant's range like grid_code."""

    def _area_key(self, catalog: Catalog) -> str | None:
        keys = [i.key for i in catalog.items.all() if i.type == ItemType.AREA]
        return keys[0] if keys else None

    def _qs(self, catalog: Catalog, area: str, filters: list[Filter]) -> QuerySet[DatasetRow]:
        qs = DatasetRow.objects.filter(catalog=catalog)
        area_key = self._area_key(catalog)
        wanted = [*([Filter(area_key, area, prefix=True)] if area and area_key else []), *filters]
        for n, f in enumerate(wanted):
            alias = f"_f{n}"
            qs = qs.alias(**{alias: _text(f.field)})
            qs = qs.filter(**{f"{alias}__startswith" if f.prefix else alias: f.value})
        return qs

    def page(self, catalog: Catalog, area: str, filters: list[Filter], after: int,
             limit: int, wanted: set[str] | None = None) -> list[tuple[int, Row]]:
        qs = self._qs(catalog, area, filters).filter(pk__gt=after).order_by("pk")[:limit]
        return [(pk, data) for pk, data in qs.values_list("pk", "data")]

    def compare(self, catalog: Catalog, area: str, field: str,
                values: list[str]) -> dict[str, tuple[int, Row]]:
        qs = self._qs(catalog, area, []).alias(_key=_text(field)).filter(
            _key__in=values)
        return {str(data.get(field)): (pk, data) for pk, data in qs.values_list("pk", "data")}


SOURCES: dict[str, Source] = {
    Backing.PERSON: PersonSource(),
    Backing.HOUSE: HouseSource(),
    Backing.ORGANISATION: OrganisationSource(),
    Backing.DATASET: DatasetSource(),
}


def source_for(catalog: Catalog) -> Source:
    return SOURCES[catalog.backing]


def registry_fields(backing: str) -> dict[str, FieldSpec]:
    return dict(SOURCES[backing].fields) if backing in SOURCES else {}
