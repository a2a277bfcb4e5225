"""Reads of people and organisations: scoped to the reader's area, masked by
`wangge.core.masking`, and audited when a person's details are opened.

A person outside the reader's scope answers exactly like one that does not
exist, so an id cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from wangge.core import access, audit
from wangge.core.errors import InvalidInput, NotFound
from wangge.core.identity import normalize_id_number, normalize_phone
from wangge.core.masking import Field, reveal_check, shown, visible
from wangge.core.scope import restrict
from wangge.registry import vocab
from wangge.registry.models import Organisation, Person, PersonTag, Provenance

# Departments see people only through exchange grants; residents not at all.
NO_PEOPLE_ROLES = frozenset({"department_staff", "resident"})
PAGE = 50


def _can_list(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or getattr(user, "role", "") not in NO_PEOPLE_ROLES)


def people_for(user: Any) -> QuerySet[Person]:
    if not _can_list(user):
        return Person.objects.none()
    return restrict(Person.objects.all(), user, code_field="grid_code")


def organisations_for(user: Any) -> QuerySet[Organisation]:
    if not _can_list(user):
        return Organisation.objects.none()
    return restrict(Organisation.objects.all(), user, code_field="grid_code")


def search_people(user: Any, q: str = "", *, grid: str = "", tag: str = "") -> QuerySet[Person]:
    """By name, by a whole ID number or by a whole phone: a partial ID or phone
    would let a reader enumerate numbers they may not see."""
    qs = people_for(user)
    text = (q or "").strip()
    if text:
        number = normalize_id_number(text)
        phone = normalize_phone(text)
        cond = Q(name__startswith=text)
        if len(number) == 18:
            cond |= Q(id_number=number)
        if len(phone) == 11:
            cond |= Q(phones__icontains=phone)  # the JSON text holds the whole number
        qs = qs.filter(cond)
    if grid:
        qs = qs.filter(grid_code__startswith=grid)
    if tag and (tag not in vocab.SENSITIVE_TAGS or visible(user, Field.SENSITIVE_TAG)):
        qs = qs.filter(tags__tag=tag)
    return qs.order_by("grid_code", "name", "pk")


@dataclass
class PersonRow:
    pk: int
    name: str
    id_number: str
    gender: str
    age: int | None
    phone: str
    address: str
    grid_code: str
    tags: list[str]


def _age(born: date | None, today: date | None = None) -> int | None:
    if born is None:
        return None
    day = today or date.today()
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _tag_labels(user: Any, tags: list[str], purpose: str = "") -> list[str]:
    labels = []
    for tag in tags:
        if tag in vocab.SENSITIVE_TAGS and not visible(user, Field.SENSITIVE_TAG, purpose):
            labels.append("特殊人群")
        else:
            labels.append(vocab.TAGS.get(tag, tag))
    return sorted(set(labels))


def person_rows(user: Any, people: QuerySet[Person] | list[Person]) -> list[PersonRow]:
    """A page of people as the reader may see them in a list: masked, never
    revealed by a purpose (that needs the details view, which is audited)."""
    items = list(people)
    tags: dict[int, list[str]] = {}
    for person_id, tag in PersonTag.objects.filter(person__in=items).values_list("person_id", "tag"):
        tags.setdefault(person_id, []).append(tag)
    return [PersonRow(
        pk=p.pk, name=shown(user, Field.NAME, p.name),
        id_number=shown(user, Field.ID_NUMBER, p.id_number or ""),
        gender=vocab.GENDERS.get(p.gender, ""), age=_age(p.birth_date),
        phone=shown(user, Field.PHONE, p.phones[0] if p.phones else ""),
        address=shown(user, Field.ADDRESS, p.address.full_name if p.address else p.address_text),
        grid_code=p.grid_code, tags=_tag_labels(user, tags.get(p.pk, []))) for p in items]


@dataclass
class PersonDetail:
    row: PersonRow
    former_names: list[str]
    birth_date: str
    ethnicity: str
    hukou_area: str
    residence_type: str
    phones: list[str]
    employer: str
    revealed: list[str]
    provenance: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    households: list[dict[str, Any]] = field(default_factory=list)


def _person(user: Any, pk: int) -> Person:
    """The person if the reader's scope holds them; a missing person and one
    outside the scope raise the same NotFound."""
    person = people_for(user).select_related("address", "employer").filter(pk=pk).first()
    if person is None:
        raise NotFound("person_not_found", "未找到该人员，或不在您的权限范围内")
    return person


def get_person(user: Any, pk: int, *, purpose: str = "") -> PersonDetail:
    """One person's details, with provenance and conflicts. Fields the role may
    see only with a purpose are revealed when one is given (at least
    masking.MIN_PURPOSE characters); the read and the purpose go to the audit log."""
    person = _person(user, pk)
    revealed = [f.value for f in (Field.ID_NUMBER, Field.PHONE, Field.SENSITIVE_TAG)
                if visible(user, f, purpose)]
    audit.record(user, "read", "registry.Person", person.pk, fields=["name", *revealed],
                 reason=purpose.strip())
    row = person_rows(user, [person])[0]
    row.id_number = shown(user, Field.ID_NUMBER, person.id_number or "", purpose)
    row.phone = shown(user, Field.PHONE, person.phones[0] if person.phones else "", purpose)
    tags = list(person.tags.values_list("tag", flat=True))
    row.tags = _tag_labels(user, tags, purpose)
    return PersonDetail(
        row=row, former_names=[shown(user, Field.NAME, n) for n in person.former_names],
        birth_date=person.birth_date.isoformat() if person.birth_date else "",
        ethnicity=person.ethnicity, hukou_area=person.hukou_area,
        residence_type=vocab.RESIDENCE_TYPES.get(person.residence_type, ""),
        phones=[shown(user, Field.PHONE, p, purpose) for p in person.phones],
        employer=person.employer.name if person.employer else "",
        revealed=revealed,
        provenance=_provenance(user, person, purpose),
        conflicts=_conflicts(user, person, purpose),
        households=_households(user, person))


MASK_BY_FIELD = {"name": Field.NAME, "former_names": Field.NAME, "id_number": Field.ID_NUMBER,
                 "phones": Field.PHONE, "address_text": Field.ADDRESS}


def _value_for(user: Any, field_name: str, value: str, purpose: str) -> str:
    kind = MASK_BY_FIELD.get(field_name)
    return shown(user, kind, value, purpose) if kind else value


def _provenance(user: Any, person: Person, purpose: str) -> list[dict[str, Any]]:
    rows = (Provenance.objects.filter(person=person).select_related("source", "record")
            .order_by("field", "-chosen", "-observed_at"))
    return [{"field": vocab.FIELD_LABELS.get(p.field, p.field), "value": _value_for(user, p.field, p.value, purpose),
             "source": p.source.name, "record": p.record.record_key, "line": p.record.line,
             "batch": p.record.batch_id, "observed_at": p.observed_at, "chosen": p.chosen} for p in rows]


def _conflicts(user: Any, person: Person, purpose: str) -> list[dict[str, Any]]:
    return [{"pk": c.pk, "field": vocab.FIELD_LABELS.get(c.field, c.field), "status": c.get_status_display(), "chosen": c.chosen,
             "values": sorted({_value_for(user, c.field, str(v.get("value", "")), purpose)
                               for v in c.values})}
            for c in person.conflicts.order_by("field")]


def _households(user: Any, person: Person) -> list[dict[str, Any]]:
    out = []
    for m in person.memberships.select_related("household"):
        members = m.household.members.select_related("person").order_by("pk")
        out.append({"key": m.household.key, "relation": vocab.RELATIONS.get(m.relation, ""),
                    "members": [{"pk": x.person_id, "name": shown(user, Field.NAME, x.person.name),
                                 "relation": vocab.RELATIONS.get(x.relation, "")} for x in members]})
    return out


# The fields a reader can ask to see in full one at a time (the page's and the
# API's reveal); names and addresses are never masked for those who may reveal.
REVEALABLE = (Field.ID_NUMBER, Field.PHONE, Field.SENSITIVE_TAG)


@dataclass
class Revealed:
    field: str
    values: list[str]


def reveal_for(user: Any, pk: int, *, field: str, reason: str) -> Revealed:
    """One field of one person in full, for a stated reason; writes one audit
    entry ("reveal"). The role's rule is checked before the person is looked up,
    so a refusal says nothing about whether the person exists."""
    kind = Field(field) if field in {f.value for f in REVEALABLE} else None
    if kind is None:
        raise InvalidInput("field_not_revealable", "只能查看身份证号、电话或特殊人群标签的完整信息",
                           fields={"field": "invalid"})
    cleaned = reveal_check(user, kind, reason)
    person = _person(user, pk)
    if kind == Field.ID_NUMBER:
        values = [person.id_number] if person.id_number else []
    elif kind == Field.PHONE:
        values = list(person.phones)
    else:
        tags = person.tags.filter(tag__in=vocab.SENSITIVE_TAGS).values_list("tag", flat=True)
        values = sorted({vocab.TAGS.get(t, t) for t in tags})
    audit.record(user, "reveal", "registry.Person", person.pk, fields=[kind.value], reason=cleaned)
    return Revealed(field=kind.value, values=values)


def person_name_for(user: Any, pk: int) -> str:
    """The person's name as this reader may see it in a list (not audited:
    a list shows as much)."""
    return shown(user, Field.NAME, _person(user, pk).name)


def access_report_for(user: Any, pk: int, since: datetime | None = None,
                      until: datetime | None = None) -> list[access.Access]:
    """Who read or received this person's data, newest first (the right to
    know). Reading the report is itself an access: it is audited first, so it
    appears in the report it returns."""
    person = _person(user, pk)
    audit.record(user, "read_access_report", "registry.Person", person.pk)
    return access.access_report(person.pk, since=_aware(since), until=_aware(until))


def _aware(moment: datetime | None) -> datetime | None:
    # An API client may send a time without an offset: it means local time.
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)
