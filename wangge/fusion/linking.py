"""Source records → golden people.

The resolver (`wangge.fusion.resolution`, Splink on DuckDB) says which records
are the same person; this module turns its clusters into `Person` rows that
keep their ids across runs, chooses each field by survivorship, and records
provenance and conflicts. Human review decisions go in as must-link and
cannot-link constraints, so they survive every later run. A new batch is
linked against the existing people without re-running everything.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import pyarrow as pa
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wangge.core import audit
from wangge.core.bulk import insert_values, update_rows
from wangge.fusion import resolution
from wangge.fusion.models import Decision, ResolutionRun, ReviewPair
from wangge.fusion.survivorship import Evidence, choose, union
from wangge.registry.models import (
    Conflict,
    ConflictStatus,
    LinkStatus,
    Organisation,
    Person,
    PersonTag,
    Provenance,
    RecordKind,
    SourceRecord,
)

Progress = Callable[[str, int, int], None]
CHUNK = 2000
FIELD_OF_VALUE = {
    "name": "name", "id_number": "id_number", "gender": "gender", "birth_date": "birth_date",
    "ethnicity": "ethnicity", "hukou_area": "hukou_area", "residence_type": "residence_type",
}


def _live_people_records() -> Any:
    return SourceRecord.objects.filter(kind=RecordKind.PERSON, superseded=False)


def _rows(qs: Any) -> list[dict[str, Any]]:
    return list(qs.values("pk", "source__code", "values", "person_id", "address__code"))


def _table(rows: list[dict[str, Any]], *, with_cluster: bool = False) -> pa.Table:
    """Records in the resolver's columns; the matched room code is the strongest
    address evidence, so it goes along when there is one."""
    columns: dict[str, list[str]] = {c: [] for c in (*resolution.RECORD_COLUMNS, "address_code")}
    for row in rows:
        values = row["values"]
        phones = values.get("phones") or []
        columns["record_id"].append(str(row["pk"]))
        columns["source"].append(row["source__code"])
        for name in ("name", "id_number", "birth_date", "gender", "address"):
            columns[name].append(str(values.get(name, "")))
        columns["phone"].append(phones[0] if phones else "")
        columns["address_code"].append(row["address__code"] or "")
    if with_cluster:
        columns["cluster_id"] = [f"p{row['person_id']}" for row in rows]
    return pa.table(columns)


def _constraints() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    same: list[tuple[str, str]] = []
    different: list[tuple[str, str]] = []
    for left, right, decision in ReviewPair.objects.exclude(decision=Decision.PENDING).values_list(
            "left_id", "right_id", "decision"):
        (same if decision == Decision.SAME else different).append((str(left), str(right)))
    return same, different


def link_pending(*, full: bool = False, progress: Progress | None = None) -> ResolutionRun:
    """Link every record not yet linked. Against the existing people when there
    are any (incremental), or all records from scratch when `full`."""
    started = time.perf_counter()
    model = resolution.load_model()
    must, cannot = _constraints()
    existing = [] if full else _rows(_live_people_records().filter(person__isnull=False))
    if full or not existing:
        rows = _rows(_live_people_records())
        result = resolution.resolve(_table(rows), model, must_link=must, cannot_link=cannot,
                                    progress=progress)
        mode = "full"
    else:
        rows = _rows(_live_people_records().filter(person__isnull=True))
        if not rows:
            return ResolutionRun.objects.create(mode="incremental", records=0)
        result = resolution.link_new(_table(rows), _table(existing, with_cluster=True), model,
                                     must_link=must, cannot_link=cannot)
        mode = "incremental"
    clusters = _clusters(result.clusters)
    with transaction.atomic():
        created, merged, touched = _assign(clusters)
        queued = _queue_reviews(result.uncertain, _cluster_of(clusters, existing))
        rebuild_people(touched, progress=progress)
        run = ResolutionRun.objects.create(
            mode=mode, seconds=time.perf_counter() - started, records=len(rows),
            clusters=len(clusters), uncertain=queued, created=created, merged=merged)
        audit.record(None, "link", "fusion.ResolutionRun", run.pk,
                     reason=f"{mode}: {len(rows)}条记录，新建{created}人，合并{merged}人")
    return run


def _clusters(table: pa.Table) -> dict[str, list[int]]:
    clusters: dict[str, list[int]] = defaultdict(list)
    for record_id, cluster_id in zip(table.column("record_id").to_pylist(),
                                     table.column("cluster_id").to_pylist(), strict=True):
        clusters[cluster_id].append(int(record_id))
    return clusters


def _current_people(record_ids: list[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for start in range(0, len(record_ids), CHUNK):
        found.update(SourceRecord.objects.filter(pk__in=record_ids[start:start + CHUNK])
                     .values_list("pk", "person_id"))
    return found


def _assign(clusters: dict[str, list[int]]) -> tuple[int, int, set[int]]:
    """Give each cluster a person: the one most of its records already belong
    to, so ids stay stable; largest clusters choose first."""
    current = _current_people([r for members in clusters.values() for r in members])
    claimed: dict[int, str] = {}
    owner: dict[str, int] = {}
    touched: set[int] = set()
    # An incremental run names the existing clusters it joined "p<person id>".
    for cid in clusters:
        if cid.startswith("p") and cid[1:].isdigit():
            claimed[int(cid[1:])] = cid
            owner[cid] = int(cid[1:])
    for cid, members in sorted(clusters.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if cid in owner:
            continue
        votes = Counter(p for r in members if (p := current.get(r)) is not None)
        for person_id, _ in votes.most_common():
            if person_id not in claimed:
                claimed[person_id] = cid
                owner[cid] = person_id
                break
    new_clusters = [cid for cid in clusters if cid not in owner]
    people = Person.objects.bulk_create([Person(name="") for _ in new_clusters], batch_size=CHUNK)
    for cid, person in zip(new_clusters, people, strict=True):
        owner[cid] = person.pk
    moves: dict[int, list[int]] = defaultdict(list)
    for cid, members in clusters.items():
        for r in members:
            if current.get(r) != owner[cid]:
                moves[owner[cid]].append(r)
                if current.get(r) is not None:
                    touched.add(current[r])  # type: ignore[arg-type]
    for person_id, record_ids in moves.items():
        for start in range(0, len(record_ids), CHUNK):
            SourceRecord.objects.filter(pk__in=record_ids[start:start + CHUNK]).update(
                person_id=person_id, link_status=LinkStatus.LINKED)
        touched.add(person_id)
    retired = _retire_emptied(touched)
    return len(new_clusters), len(retired), touched - retired


def _retire_emptied(touched: set[int]) -> set[int]:
    """A person left with no live record was merged into whoever took its
    records: what hangs on it (households, tenancies, houses) moves there."""
    alive = set(_live_people_records().filter(person_id__in=touched).values_list("person_id", flat=True))
    retired = touched - alive
    for person_id in retired:
        merge_people(_heir_of(person_id), person_id)
    return retired


def _heir_of(person_id: int) -> int | None:
    """Where the records that used to be this person's went (by provenance)."""
    record_ids = list(Provenance.objects.filter(person_id=person_id).values_list("record_id", flat=True)[:50])
    heirs = Counter(SourceRecord.objects.filter(pk__in=record_ids, person__isnull=False)
                    .exclude(person_id=person_id).values_list("person_id", flat=True))
    return heirs.most_common(1)[0][0] if heirs else None


def merge_people(winner_id: int | None, loser_id: int) -> None:
    from wangge.registry.models import House, Household, HouseholdMember, Tenancy

    if winner_id is not None and winner_id != loser_id:
        existing = set(HouseholdMember.objects.filter(person_id=winner_id).values_list("household_id", flat=True))
        HouseholdMember.objects.filter(person_id=loser_id).exclude(household_id__in=existing).update(
            person_id=winner_id)
        Household.objects.filter(head_id=loser_id).update(head_id=winner_id)
        House.objects.filter(owner_id=loser_id).update(owner_id=winner_id)
        Tenancy.objects.filter(tenant_id=loser_id).update(tenant_id=winner_id)
        SourceRecord.objects.filter(person_id=loser_id).update(person_id=winner_id)
    Person.objects.filter(pk=loser_id).delete()


def _cluster_of(clusters: dict[str, list[int]], existing: list[dict[str, Any]]) -> dict[int, str]:
    found = {row["pk"]: f"p{row['person_id']}" for row in existing}
    found.update({r: cid for cid, members in clusters.items() for r in members})
    return found


def _queue_reviews(uncertain: pa.Table, cluster_of: dict[int, str]) -> int:
    """Uncertain pairs the clustering left apart: a reviewer's "same" would
    change the result. Pairs already joined through stronger links are not
    asked about."""
    if not uncertain.num_rows:
        return 0
    pairs = []
    for left, right, p in zip(uncertain.column("record_id_l").to_pylist(),
                              uncertain.column("record_id_r").to_pylist(),
                              uncertain.column("match_probability").to_pylist(), strict=True):
        a, b = sorted((int(left), int(right)))
        if cluster_of.get(a, a) == cluster_of.get(b, b):
            continue
        pairs.append(ReviewPair(left_id=a, right_id=b, probability=float(p)))
    grids = dict(SourceRecord.objects.filter(pk__in=[p.left_id for p in pairs]).values_list("pk", "grid_code"))
    for pair in pairs:
        pair.grid_code = grids.get(pair.left_id, "")
    ReviewPair.objects.bulk_create(pairs, batch_size=CHUNK, ignore_conflicts=True)
    return len(pairs)


# --- golden records --------------------------------------------------------


def _chunked(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def rebuild_people(person_ids: Iterable[int], *, progress: Progress | None = None) -> int:
    """Recompute the chosen values, provenance and conflicts of these people
    from their live source records."""
    ids = sorted(set(person_ids))
    employers = _employers()
    done = 0
    for chunk in _chunked(ids):
        _rebuild_chunk(chunk, employers)
        done += len(chunk)
        if progress:
            progress("生成标准人口", done, len(ids))
    return done


def _employers() -> dict[str, int]:
    known: dict[str, int] = {}
    for pk, name, code in Organisation.objects.values_list("pk", "name", "credit_code"):
        known.setdefault(name, pk)
        if code:
            known[code] = pk
    return known


# Room code → row id of the rooms the records being rebuilt point at; filled as
# records are read, so choosing an address costs no query.
ADDRESS_PK: dict[str, int | None] = {}


def _rebuild_chunk(ids: list[int], employers: dict[str, int]) -> None:
    records: dict[int, list[SourceRecord]] = defaultdict(list)
    qs = (_live_people_records().filter(person_id__in=ids)
          .select_related("source", "address").order_by("pk"))
    for record in qs:
        records[record.person_id].append(record)
        if record.address is not None:
            ADDRESS_PK[record.address.code] = record.address_id
    people = {p.pk: p for p in Person.objects.filter(pk__in=ids)}
    preferred = _resolved_choices(ids)
    provenance: list[tuple[object, ...]] = []
    conflicts: list[Conflict] = []
    tags: list[PersonTag] = []
    for pk, person in people.items():
        evidence = _evidence(records.get(pk, []))
        chosen = _apply(person, evidence, preferred.get(pk, {}), employers)
        provenance += _provenance(person, evidence, chosen)
        conflicts += _conflicts(person, evidence, chosen)
        tags += _tags(person, records.get(pk, []))
    _save(people, provenance, conflicts, tags)


def _resolved_choices(ids: list[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = defaultdict(dict)
    for person_id, field, value in Conflict.objects.filter(
            person_id__in=ids, status=ConflictStatus.RESOLVED).values_list("person_id", "field", "chosen"):
        out[person_id][field] = value
    return out


def _evidence(records: list[SourceRecord]) -> dict[str, list[Evidence]]:
    by_field: dict[str, list[Evidence]] = defaultdict(list)
    for r in records:
        def add(field: str, value: object, r: SourceRecord = r) -> None:
            if value not in (None, ""):
                by_field[field].append(Evidence(r.pk, r.source_id, r.source.trust_of(field),
                                                r.collected_at, str(value)))
        values = r.values
        for key, field in FIELD_OF_VALUE.items():
            add(field, values.get(key))
        add("address_code", r.address.code if r.address else "")
        add("address_text", values.get("address"))
        add("grid_code", r.grid_code)
        add("employer", values.get("employer_credit_code") or values.get("employer"))
        for phone in values.get("phones") or []:
            add("phones", phone)
        for name in values.get("former_names") or []:
            add("former_names", name)
    return by_field


def _apply(person: Person, evidence: dict[str, list[Evidence]], preferred: dict[str, str],
           employers: dict[str, int]) -> dict[str, int | None]:
    """Set the person's fields; returns field → the record whose value won."""
    won: dict[str, int | None] = {}
    for field in (*FIELD_OF_VALUE.values(), "address_code", "address_text", "grid_code", "employer"):
        choice = choose(evidence.get(field, []), preferred=preferred.get(field))
        won[field] = choice.record_id
        _set(person, field, choice.value, evidence, employers)
    for field in ("phones", "former_names"):
        values = union(evidence.get(field, []))
        setattr(person, field, [v for v, _ in values])
        won.update({f"{field}:{v}": rid for v, rid in values})
    return won


def _set(person: Person, field: str, value: str, evidence: dict[str, list[Evidence]],
         employers: dict[str, int]) -> None:
    if field == "birth_date":
        person.birth_date = date.fromisoformat(value) if value else None
    elif field == "address_code":
        person.address_id = ADDRESS_PK.get(value) if value else None
    elif field == "address_text":
        person.address_text = value[:300]
    elif field == "employer":
        person.employer_id = employers.get(value)
    elif field == "id_number":
        person.id_number = value or None
    else:
        setattr(person, field, value)


PROVENANCE_COLUMNS = ("person_id", "field", "value", "record_id", "source_id", "observed_at", "chosen")


def _provenance(person: Person, evidence: dict[str, list[Evidence]],
                won: dict[str, int | None]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for field, items in evidence.items():
        for e in items:
            chosen = won.get(field) == e.record_id or won.get(f"{field}:{e.value}") == e.record_id
            rows.append((person.pk, field, e.value[:500], e.record_id, e.source_id, e.observed_at, chosen))
    return rows


# Fields where two sources legitimately differ in spelling only: not conflicts.
NOT_CONFLICTS = {"address_text"}


def _conflicts(person: Person, evidence: dict[str, list[Evidence]], won: dict[str, int | None]) -> list[Conflict]:
    out = []
    for field in (*FIELD_OF_VALUE.values(), "address_code", "employer"):
        if field in NOT_CONFLICTS:
            continue
        choice = choose(evidence.get(field, []))
        if choice.conflicting:
            values = [{"value": e.value, "record": e.record_id, "source": e.source_id}
                      for e in evidence[field]]
            out.append(Conflict(person_id=person.pk, field=field, values=values))
    return out


def _tags(person: Person, records: list[SourceRecord]) -> list[PersonTag]:
    seen: dict[str, PersonTag] = {}
    for r in records:
        for tag in r.values.get("tags") or []:
            seen.setdefault(tag, PersonTag(person_id=person.pk, tag=tag, record_id=r.pk,
                                           since=r.collected_at.date()))
    return list(seen.values())


def _save(people: dict[int, Person], provenance: list[tuple[object, ...]], conflicts: list[Conflict],
          tags: list[PersonTag]) -> None:
    ids = list(people)
    _settle_id_numbers(people, conflicts)
    _grid_codes(people)
    Person.objects.filter(pk__in=ids).update(id_number=None)
    now = timezone.now()
    for person in people.values():
        person.updated_at = now
    update_rows(list(people.values()), [
        "name", "former_names", "id_number", "gender", "birth_date", "phones", "ethnicity", "hukou_area",
        "residence_type", "address", "address_text", "grid_code", "employer", "updated_at"])
    Provenance.objects.filter(person_id__in=ids).delete()
    insert_values(Provenance, PROVENANCE_COLUMNS, provenance)
    Conflict.objects.filter(person_id__in=ids, status=ConflictStatus.OPEN).delete()
    resolved = set(Conflict.objects.filter(person_id__in=ids).values_list("person_id", "field"))
    Conflict.objects.bulk_create([c for c in conflicts if (c.person_id, c.field) not in resolved],
                                 batch_size=CHUNK)
    PersonTag.objects.bulk_create(tags, batch_size=CHUNK, ignore_conflicts=True)


def _settle_id_numbers(people: dict[int, Person], conflicts: list[Conflict]) -> None:
    """Two golden records may not share an ID number (a reviewer said they are
    different people, or the number was mistyped): the later one gives it up and
    the clash is kept as a conflict to look at."""
    wanted = {p.id_number: pk for pk, p in people.items() if p.id_number}
    taken = dict(Person.objects.filter(id_number__in=list(wanted)).exclude(pk__in=list(people))
                 .values_list("id_number", "pk"))
    seen: set[str] = set()
    for pk, person in sorted(people.items()):
        number = person.id_number
        if not number:
            continue
        if number in taken or number in seen:
            conflicts.append(Conflict(person_id=pk, field="id_number",
                                      values=[{"value": number, "record": None, "source": None,
                                               "note": "与其他人员的身份证号相同"}]))
            person.id_number = None
        else:
            seen.add(number)


def _grid_codes(people: dict[int, Person]) -> None:
    from wangge.addresses.models import Address

    address_ids = {p.address_id for p in people.values() if p.address_id}
    grids = dict(Address.objects.filter(pk__in=address_ids).values_list("pk", "grid_code"))
    # The room's grid when the address matched; otherwise the grid of the best
    # partial match (a building or compound), which survivorship already chose.
    for person in people.values():
        if person.address_id:
            person.grid_code = grids.get(person.address_id, person.grid_code)


def review_queue_filter(scope_q: Q) -> Q:
    return scope_q & Q(decision=Decision.PENDING)


# --- organisations -----------------------------------------------------------
# Organisations carry a checked national identifier (the credit code), so they
# link on it exactly; one without a code links on its normalised name.

ORG_FIELDS = ("name", "credit_code", "org_type", "legal_rep", "phone", "staff_count", "address")


def _org_key(values: dict[str, Any]) -> str:
    code = str(values.get("credit_code") or "")
    return code or "name:" + "".join(str(values.get("name", "")).split())


def link_organisations() -> int:
    """Give every unlinked organisation record its golden organisation and
    recompute the fields of the ones it touched. Returns records linked."""
    pending = list(SourceRecord.objects.filter(kind=RecordKind.ORGANISATION, superseded=False,
                                               organisation__isnull=True))
    if not pending:
        return 0
    known: dict[str, int] = {}
    for pk, name, code in Organisation.objects.values_list("pk", "name", "credit_code"):
        known.setdefault("name:" + "".join(name.split()), pk)
        if code:
            known[code] = pk
    touched: set[int] = set()
    with transaction.atomic():
        for record in pending:
            key = _org_key(record.values)
            if key not in known:
                known[key] = Organisation.objects.create(name=str(record.values.get("name", ""))[:200]).pk
            record.organisation_id = known[key]
            record.link_status = LinkStatus.LINKED
            touched.add(known[key])
        SourceRecord.objects.bulk_update(pending, ["organisation", "link_status"], batch_size=CHUNK)
        for org_id in touched:
            rebuild_organisation(org_id)
    return len(pending)


def rebuild_organisation(org_id: int) -> None:
    org = Organisation.objects.get(pk=org_id)
    records = list(SourceRecord.objects.filter(organisation_id=org_id, superseded=False)
                   .select_related("source", "address"))
    provenance: list[Provenance] = []
    for field in ORG_FIELDS:
        evidence = [Evidence(r.pk, r.source_id, r.source.trust_of(field), r.collected_at,
                             str(r.values.get(field, "")).strip()) for r in records]
        choice = choose(evidence)
        _set_org(org, field, choice.value, records)
        provenance += [Provenance(organisation_id=org_id, field=field, value=e.value[:500], record_id=e.record_id,
                                  source_id=e.source_id, observed_at=e.observed_at,
                                  chosen=e.record_id == choice.record_id) for e in evidence if e.value]
    located = next((r for r in records if r.address_id), None)
    org.address_id = located.address_id if located else None
    org.grid_code = located.grid_code if located else next((r.grid_code for r in records if r.grid_code), "")
    org.save()
    Provenance.objects.filter(organisation_id=org_id).delete()
    Provenance.objects.bulk_create(provenance)


def _set_org(org: Organisation, field: str, value: str, records: list[SourceRecord]) -> None:
    if field == "staff_count":
        org.staff_count = int(value) if value.isdigit() else None
    elif field == "credit_code":
        org.credit_code = value or None
    elif field == "address":
        org.address_text = value[:300]
    elif value or field != "name":
        setattr(org, field, value)
