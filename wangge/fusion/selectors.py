"""Reads of the fusion pipeline: the data-quality report, the review queue and
the import batches, each limited to the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from wangge.core.errors import NotFound
from wangge.core.masking import Field, shown
from wangge.core.scope import restrict, scope_of
from wangge.fusion.models import Decision, ReviewPair
from wangge.registry import vocab
from wangge.registry.models import (
    Batch,
    Conflict,
    ConflictStatus,
    Person,
    RecordKind,
    Source,
    SourceRecord,
)
from wangge.registry.selectors import people_for

# The golden fields whose completeness the report measures, with their labels.
# "address" here is the link to the standard address library, hence its label.
COMPLETENESS = {f: vocab.FIELD_LABELS["address_code" if f == "address" else f] for f in (
    "id_number", "phones", "birth_date", "gender", "address", "ethnicity", "residence_type")}
# Code length of the level below: district 6 → street 9 → community 12 → grid 15.
NEXT_LEVEL = {0: 6, 6: 9, 9: 12, 12: 15, 15: 15}


def _filled(field: str) -> Q:
    if field == "phones":
        return ~Q(phones=[])
    if field in ("address", "birth_date"):
        return Q(**{f"{field}__isnull": False})
    if field == "id_number":
        return Q(id_number__isnull=False)
    return ~Q(**{field: ""})


def _completeness(qs: QuerySet[Person]) -> dict[str, Any]:
    figures = qs.aggregate(total=Count("pk"), **{f: Count("pk", filter=_filled(f)) for f in COMPLETENESS})
    total = figures.pop("total") or 0
    return {"people": total,
            "fields": {f: round(figures[f] / total, 4) if total else 0.0 for f in COMPLETENESS},
            "overall": round(sum(figures.values()) / (total * len(COMPLETENESS)), 4) if total else 0.0}


def quality_by_area(user: Any, area: str = "") -> list[dict[str, Any]]:
    """Completeness and open conflicts per child area of `area` (or of the
    reader's own area)."""
    scope = scope_of(user)
    prefix = area or (scope.prefixes[0] if len(scope.prefixes) == 1 else "")
    if prefix and not scope.covers(prefix) and not scope.everything:
        raise NotFound("area_not_found", "未找到该区域，或不在您的权限范围内")
    length = NEXT_LEVEL.get(len(prefix), 15)
    people = people_for(user).filter(grid_code__startswith=prefix).exclude(grid_code="")
    keys = (people.annotate(part=Substr("grid_code", 1, length)).values_list("part", flat=True)
            .distinct().order_by("part"))
    conflicts = dict(Conflict.objects.filter(status=ConflictStatus.OPEN, person__in=people)
                     .annotate(part=Substr("person__grid_code", 1, length)).values("part")
                     .annotate(n=Count("pk")).values_list("part", "n"))
    names = _area_names(list(keys))
    rows = []
    for key in keys:
        row = _completeness(people.filter(grid_code__startswith=key))
        rows.append({"code": key, "name": names.get(key, key), **row, "open_conflicts": conflicts.get(key, 0)})
    return rows


def _area_names(codes: list[str]) -> dict[str, str]:
    from wangge.areas.models import Area

    return dict(Area.objects.filter(code__in=codes).values_list("code", "name"))


def quality_by_source(user: Any) -> list[dict[str, Any]]:
    """Per source: records in, bad rows refused, golden people they feed, and
    duplicates found (records that landed on a person another record of the
    same source already gave)."""
    records = restrict(SourceRecord.objects.filter(kind=RecordKind.PERSON, superseded=False), user,
                       code_field="grid_code")
    per_source = {row["source"]: row for row in records.values("source").annotate(
        records=Count("pk"), people=Count("person", distinct=True),
        review=Count("pk", filter=Q(link_status="review")))}
    bad = dict(Batch.objects.filter(kind=RecordKind.PERSON).values("source")
               .annotate(n=Count("pk")).values_list("source", "n"))
    out = []
    for source in Source.objects.order_by("code"):
        row = per_source.get(source.pk, {"records": 0, "people": 0})
        bad_rows = sum(Batch.objects.filter(source=source).values_list("rows_bad", flat=True))
        out.append({"code": source.code, "name": source.name, "channel": source.get_channel_display(),
                    "records": row["records"], "people": row["people"],
                    "duplicates": row["records"] - row["people"], "bad_rows": bad_rows,
                    "batches": bad.get(source.pk, 0)})
    return out


def quality_summary(user: Any, area: str = "") -> dict[str, Any]:
    people = people_for(user)
    if area:
        people = people.filter(grid_code__startswith=area)
    records = restrict(SourceRecord.objects.filter(kind=RecordKind.PERSON, superseded=False), user,
                       code_field="grid_code")
    n_records = records.count()
    golden = _completeness(people)
    return {**golden, "records": n_records, "duplicates": max(0, n_records - golden["people"]),
            "open_conflicts": Conflict.objects.filter(status=ConflictStatus.OPEN, person__in=people).count(),
            "review_pending": review_queue(user).count()}


def review_queue(user: Any) -> QuerySet[ReviewPair]:
    pairs = restrict(ReviewPair.objects.filter(decision=Decision.PENDING), user, code_field="grid_code")
    return pairs.select_related("left__source", "right__source").order_by("-probability", "pk")


@dataclass
class ReviewSide:
    record: SourceRecord
    values: list[tuple[str, str]]


REVIEW_FIELDS = [("name", "姓名", Field.NAME), ("id_number", "身份证号", Field.ID_NUMBER),
                 ("gender", "性别", None), ("birth_date", "出生日期", None), ("phones", "电话", Field.PHONE),
                 ("address", "住址", None)]


def review_sides(user: Any, pair: ReviewPair) -> tuple[ReviewSide, ReviewSide]:
    """The two records as the reviewer may see them, field by field."""
    def side(record: SourceRecord) -> ReviewSide:
        values = []
        for key, label, mask_as in REVIEW_FIELDS:
            raw = record.values.get(key, "")
            text = "、".join(raw) if isinstance(raw, list) else str(raw)
            values.append((label, shown(user, mask_as, text) if mask_as else text))
        return ReviewSide(record, values)

    return side(pair.left), side(pair.right)


def get_review_pair(user: Any, pk: int) -> ReviewPair:
    pair = review_queue(user).filter(pk=pk).first()
    if pair is None:
        raise NotFound("pair_not_found", "未找到该记录对，或已处理，或不在您的权限范围内")
    return pair


def batches_for(user: Any) -> QuerySet[Batch]:
    qs = Batch.objects.select_related("source", "uploaded_by")
    scope = scope_of(user)
    if scope.everything:
        return qs
    return qs.filter(uploaded_by=user)


def get_batch(user: Any, pk: int) -> Batch:
    batch = batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound("batch_not_found", "未找到该导入批次，或不在您的权限范围内")
    return batch


def completeness_by_area(user: Any, codes: list[str]) -> dict[str, dict[str, Any]]:
    """The map's completeness indicator: share of the golden fields filled, per
    area, over the people the reader may see."""
    out: dict[str, dict[str, Any]] = {}
    for length in sorted({len(c) for c in codes}):
        wanted = [c for c in codes if len(c) == length]
        people = (people_for(user).exclude(grid_code="")
                  .annotate(part=Substr("grid_code", 1, length)).filter(part__in=wanted))
        rows = people.values("part").annotate(total=Count("pk"),
                                              **{f: Count("pk", filter=_filled(f)) for f in COMPLETENESS})
        for row in rows:
            total = row["total"]
            filled = sum(row[f] for f in COMPLETENESS)
            out[row["part"]] = {"people": total,
                                "completeness": round(filled / (total * len(COMPLETENESS)), 4) if total else None}
    return out
