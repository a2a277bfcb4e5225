"""Imports: a department's file becomes source records, its bad rows an error
file, and its people golden records.

Two phases so that a crash leaves nothing half-done: every row is read and
validated first (progress is written as it goes, outside any transaction, so a
page can show it), then the good rows land in one transaction with their audit
entry. A row already imported from the same source with the same values is left
alone, so the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wangge.addresses.selectors import address_index
from wangge.core import audit
from wangge.core.errors import DomainError, InvalidInput
from wangge.fusion import reading, validation
from wangge.registry.models import Batch, BatchStatus, LinkStatus, RecordKind, Source, SourceRecord

Progress = Callable[[str, int, int], None]

ROOM_CONFIDENCE = 0.8
CHUNK = 2000
PROGRESS_EVERY = 500
MAX_ERRORS_KEPT = 200
VALIDATORS: dict[str, Callable[..., validation.RowResult]] = {
    RecordKind.PERSON: validation.validate_person,
    RecordKind.ORGANISATION: validation.validate_organisation,
}
REQUIRED_COLUMNS: dict[str, str] = {RecordKind.PERSON: "name", RecordKind.ORGANISATION: "name"}


def imports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SameFile(DomainError):
    status = 409


def register_upload(actor: Any, *, source: Source, kind: str, path: Path, file_name: str,
                    mapping: Mapping[str, str] | None = None) -> Batch:
    """Keep a copy of the uploaded file and open a batch for it. The same file
    from the same source again is refused: it would change nothing."""
    if kind not in VALIDATORS:
        raise InvalidInput("bad_kind", f"不支持的记录类别：{kind}")
    if path.stat().st_size > reading.MAX_BYTES:
        raise InvalidInput("file_too_large",
                           f"文件 {path.stat().st_size / 1048576:.1f} MB，超过上限 "
                           f"{reading.MAX_BYTES // 1048576} MB，请拆分后再导入")
    sha = file_sha256(path)
    earlier = Batch.objects.filter(source=source, kind=kind, sha256=sha, status=BatchStatus.DONE).first()
    if earlier is not None:
        raise SameFile("same_file",
                       f"该文件已于{timezone.localtime(earlier.created_at):%Y-%m-%d %H:%M}导入"
                       f"（批次{earlier.pk}），内容相同，未重复导入")
    stored = imports_dir() / sha[:16] / Path(file_name).name
    stored.parent.mkdir(parents=True, exist_ok=True)
    if not stored.exists():
        shutil.copyfile(path, stored)
    return Batch.objects.create(
        source=source, kind=kind, file_name=Path(file_name).name[:255], sha256=sha,
        stored_path=str(stored), mapping=dict(mapping or {}),
        uploaded_by=actor if getattr(actor, "pk", None) else None)


@dataclass
class _Planned:
    line: int
    key: str
    raw: dict[str, str]
    values: dict[str, Any]
    warnings: list[str]
    fingerprint: str


@dataclass
class _Outcome:
    good: list[_Planned] = field(default_factory=list)
    errors: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)


def run_import(batch: Batch, *, progress: Progress | None = None, link: bool = True) -> Batch:
    """Read, validate and land a registered batch; then link its people."""
    Batch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING)
    try:
        table = reading.read_table(Path(batch.stored_path))
        mapping = _mapping_for(batch, table.columns)
        outcome = _validate(batch, table, mapping, progress)
        unlinked = _land(batch, table, mapping, outcome)
    except (reading.ReadError, InvalidInput) as exc:
        _fail(batch, str(getattr(exc, "message", exc)))
        return batch
    if link and unlinked:
        from wangge.fusion.linking import link_organisations, link_pending

        if batch.kind == RecordKind.PERSON:
            link_pending(progress=progress)
        else:
            link_organisations()
    batch.refresh_from_db()
    return batch


def _fail(batch: Batch, message: str) -> None:
    batch.status = BatchStatus.FAILED
    batch.message = message
    batch.save(update_fields=["status", "message"])


def _mapping_for(batch: Batch, columns: list[str]) -> dict[str, str]:
    """Column → field: what the uploader chose, else what this source used last
    time, else a guess from the column names."""
    saved = batch.source.mappings.get(batch.kind, {})
    mapping = dict(batch.mapping) or {c: f for c, f in saved.items() if c in columns}
    if not mapping:
        mapping = validation.suggest_mapping(columns, batch.kind)
    unknown = sorted(set(mapping) - set(columns))
    if unknown:
        raise InvalidInput("unknown_columns", f"列映射中的列在文件里不存在：{'、'.join(unknown)}")
    needed = REQUIRED_COLUMNS[batch.kind]
    if needed not in mapping.values():
        label = validation.fields_for(batch.kind)[needed].label
        raise InvalidInput("missing_column",
                           f"文件中没有找到“{label}”列（现有列：{'、'.join(columns)}），请在列映射中指定")
    return mapping


def _validate(batch: Batch, table: reading.Table, mapping: dict[str, str],
              progress: Progress | None) -> _Outcome:
    validate = VALIDATORS[batch.kind]
    outcome = _Outcome()
    total = len(table.rows)
    Batch.objects.filter(pk=batch.pk).update(total=total, done=0)
    seen_keys: dict[str, int] = {}
    for i, row in enumerate(table.rows, 1):
        problem = _row_problem(row, mapping, validate, seen_keys, outcome)
        if problem:
            outcome.errors.append((row.line, problem, row.values))
        if i % PROGRESS_EVERY == 0 or i == total:
            Batch.objects.filter(pk=batch.pk).update(done=i)
            if progress:
                progress("校验", i, total)
    return outcome


def _row_problem(row: reading.Row, mapping: dict[str, str], validate: Callable[..., validation.RowResult],
                 seen_keys: dict[str, int], outcome: _Outcome) -> str:
    if row.problems:
        return "；".join(row.problems)
    mapped = {f: row.values.get(c, "") for c, f in mapping.items()}
    result = validate(mapped)
    if result.errors:
        return "；".join(result.errors)
    values = _jsonable(result.values)
    fingerprint = hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    key = (mapped.get("record_id") or "").strip() or "row-" + fingerprint[:24]
    if key in seen_keys:
        return f"记录编号“{key}”与第{seen_keys[key]}行重复"
    seen_keys[key] = row.line
    outcome.good.append(_Planned(row.line, key[:64], dict(row.values), values, list(result.warnings),
                                 fingerprint))
    return ""


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value in (None, "", [], ()):
            continue
        out[name] = value.isoformat() if isinstance(value, (date, datetime)) else value
    return out


def _land(batch: Batch, table: reading.Table, mapping: dict[str, str], outcome: _Outcome) -> int:
    error_path = _write_error_file(batch, table.columns, outcome.errors)
    now = timezone.now()
    with transaction.atomic():
        existing = _existing_versions(batch.source, [p.key for p in outcome.good])
        fresh = [p for p in outcome.good if (p.key, p.fingerprint) not in existing]
        known_keys = {k for k, _ in existing}
        replaced = [p.key for p in fresh if p.key in known_keys]
        heirs = _owners(batch.source, replaced)
        SourceRecord.objects.filter(source=batch.source, record_key__in=replaced).update(superseded=True)
        records = [_record(batch, p, now) for p in fresh]
        for record in records:
            # A new version of a record is the same entity as the one it replaces.
            owner = heirs.get(record.record_key)
            if owner is not None:
                setattr(record, f"{batch.kind}_id", owner)
                record.link_status = LinkStatus.LINKED
        for start in range(0, len(records), CHUNK):
            SourceRecord.objects.bulk_create(records[start:start + CHUNK])
        source = batch.source
        source.mappings = {**source.mappings, batch.kind: mapping}
        source.save(update_fields=["mappings"])
        _finish(batch, outcome, len(fresh), error_path, table.columns, mapping)
        audit.record(batch.uploaded_by, "import", "registry.Batch", batch.pk,
                     fields=sorted(set(mapping.values())),
                     reason=f"{batch.file_name}: 新增{len(fresh)}行，未变化{len(outcome.good) - len(fresh)}行，"
                            f"错误{len(outcome.errors)}行")
        if heirs:
            from wangge.fusion.linking import rebuild_organisation, rebuild_people

            if batch.kind == RecordKind.PERSON:
                rebuild_people(heirs.values())
            else:
                for org_id in set(heirs.values()):
                    rebuild_organisation(org_id)
    return len(fresh) - len(heirs)


def _owners(source: Source, keys: list[str]) -> dict[str, int]:
    """The golden entity each live record of these keys belongs to."""
    owners: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        rows = (SourceRecord.objects.filter(source=source, record_key__in=keys[start:start + CHUNK],
                                            superseded=False)
                .values_list("record_key", "person_id", "organisation_id"))
        for key, person_id, organisation_id in rows:
            owner = person_id or organisation_id
            if owner:
                owners[key] = owner
    return owners


def _existing_versions(source: Source, keys: list[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(SourceRecord.objects.filter(source=source, record_key__in=keys[start:start + CHUNK])
                     .values_list("record_key", "fingerprint"))
    return found


def _record(batch: Batch, planned: _Planned, now: datetime) -> SourceRecord:
    values = planned.values
    record = SourceRecord(
        source=batch.source, batch=batch, kind=batch.kind, record_key=planned.key, line=planned.line,
        raw=planned.raw, values=values, warnings=planned.warnings, fingerprint=planned.fingerprint,
        collector=batch.uploaded_by, collected_at=now)
    place_record(record, str(values.get("address", "")))
    return record


def place_record(record: SourceRecord, text: str) -> None:
    """Match the record's address to the library: a room when sure, otherwise
    the candidates are kept for a person to pick."""
    if not text:
        return
    _, result = address_index().match_text(text)
    match = result.match
    if match is not None and result.resolved_level == "room" and result.confidence >= ROOM_CONFIDENCE:
        record.address_id = _address_pk(match.code)
        record.grid_code = match.grid_code
        return
    record.address_candidates = [{"code": c.code, "full_name": c.full_name, "score": round(c.score, 3)}
                                 for c in result.candidates[:3]]
    if match is not None:
        record.grid_code = match.grid_code


def _address_pk(code: str) -> int | None:
    from wangge.addresses.models import Address

    return Address.objects.filter(code=code).values_list("pk", flat=True).first()


def _finish(batch: Batch, outcome: _Outcome, landed: int, error_path: str, columns: list[str],
            mapping: dict[str, str]) -> None:
    ignored = [c for c in columns if c not in mapping]
    notes = []
    if not outcome.good and not outcome.errors:
        notes.append("文件没有数据行")
    if ignored:
        notes.append(f"未使用的列：{'、'.join(ignored)}")
    if error_path:
        notes.append(f"{len(outcome.errors)}行有错误，见错误文件")
    batch.status = BatchStatus.DONE
    batch.rows_ok = landed
    batch.rows_unchanged = len(outcome.good) - landed
    batch.rows_bad = len(outcome.errors)
    batch.errors = [{"line": line, "reason": reason} for line, reason, _ in outcome.errors[:MAX_ERRORS_KEPT]]
    batch.message = "；".join(notes)
    batch.save()


def error_file_path(batch: Batch) -> Path:
    return imports_dir() / f"batch-{batch.pk}-errors.csv"


def _write_error_file(batch: Batch, columns: list[str], errors: list[tuple[int, str, dict[str, str]]]) -> str:
    """Bad rows as the clerk sent them, with line and reason first; UTF-8 with a
    BOM so that Excel opens it in Chinese."""
    path = error_file_path(batch)
    if not errors:
        path.unlink(missing_ok=True)
        return ""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号", "错误原因", *columns])
        for line, reason, values in errors:
            writer.writerow([line, reason, *(values.get(c, "") for c in columns)])
    return str(path)


def import_file(actor: Any, *, source: Source, kind: str, path: Path, file_name: str | None = None,
                mapping: Mapping[str, str] | None = None, progress: Progress | None = None,
                link: bool = True) -> Batch:
    """Register and run at once: the command line, the demo and the tests."""
    batch = register_upload(actor, source=source, kind=kind, path=path, file_name=file_name or path.name,
                            mapping=mapping)
    return run_import(batch, progress=progress, link=link)


# --- review decisions --------------------------------------------------------


def decide_pair(actor: Any, pair: Any, decision: str, note: str = "") -> None:
    """A reviewer's verdict on two records. It takes effect at once (the two
    records join one person, or the right one leaves) and, being stored,
    constrains every later resolution run."""
    from wangge.fusion.linking import merge_people, rebuild_people
    from wangge.fusion.models import Decision
    from wangge.registry.models import Person

    if decision not in (Decision.SAME, Decision.DIFFERENT):
        raise InvalidInput("bad_decision", "结论只能是“同一人”或“不是同一人”")
    if pair.decision != Decision.PENDING:
        raise InvalidInput("already_decided", "该记录对已由他人处理")
    with transaction.atomic():
        pair.decision, pair.note = decision, note[:200]
        pair.decided_by, pair.decided_at = actor, timezone.now()
        pair.save()
        left, right = pair.left, pair.right
        touched = {p for p in (left.person_id, right.person_id) if p}
        if decision == Decision.SAME and left.person_id and right.person_id and left.person_id != right.person_id:
            merge_people(left.person_id, right.person_id)
            touched = {left.person_id}
        elif decision == Decision.DIFFERENT and left.person_id and left.person_id == right.person_id:
            person = Person.objects.create(name="")
            SourceRecord.objects.filter(pk=right.pk).update(person=person)
            touched.add(person.pk)
        rebuild_people(touched)
        audit.record(actor, "review", "fusion.ReviewPair", pair.pk, fields=["person"],
                     reason=f"{pair.get_decision_display()} {note}".strip())
