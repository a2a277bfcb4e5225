"""Collect once: campaigns ask grid workers only for what is missing or stale,
and residents self-register from the QR code of their house.

Whatever is collected becomes a source record of its channel (grid-worker form
or self-registration) and reaches the golden record through survivorship like
any department's file: a form never overwrites a person directly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from wangge.addresses.models import Address
from wangge.core import audit
from wangge.core.errors import InvalidInput, NotFound, OutOfScope
from wangge.core.masking import Field, shown
from wangge.core.scope import ensure_covers, restrict, scope_of
from wangge.fusion import validation
from wangge.fusion.models import (
    Campaign,
    CampaignSubmission,
    SelfRegistration,
    SelfRegistrationStatus,
)
from wangge.registry import vocab
from wangge.registry.models import (
    Channel,
    LinkStatus,
    Person,
    Provenance,
    RecordKind,
    Source,
    SourceRecord,
)
from wangge.registry.selectors import people_for

# What a campaign may ask for, with how the golden record holds it.
COLLECTABLE = {f: vocab.FIELD_LABELS[f] for f in (
    "phones", "birth_date", "ethnicity", "residence_type", "hukou_area", "employer", "address", "tags")}
CAMPAIGN_ROLES = frozenset({"admin", "district_staff", "street_staff", "community_staff"})
SELF_REPORT_PER_HOUR = 5


def _source(code: str, name: str, channel: str) -> Source:
    source, _ = Source.objects.get_or_create(code=code, defaults={"name": name, "channel": channel,
                                                                  "trust": {"default": 0.7}})
    return source


def grid_source() -> Source:
    return _source("grid", "网格员采集", Channel.GRID_FORM)


def self_report_source() -> Source:
    return _source("self", "居民自主申报", Channel.SELF_REPORT)


# --- campaigns -----------------------------------------------------------------


def create_campaign(actor: Any, *, name: str, fields: list[str], area_code: str, tag: str = "",
                    max_age_days: int = 365) -> Campaign:
    if not (actor.is_superuser or actor.role in CAMPAIGN_ROLES):
        raise OutOfScope("not_allowed", "只有社区、街道、区级工作人员可以发起采集任务")
    unknown = [f for f in fields if f not in COLLECTABLE]
    if not name.strip() or not fields or unknown:
        raise InvalidInput("bad_campaign", "请填写任务名称并选择要采集的字段" +
                           (f"（不支持：{'、'.join(unknown)}）" if unknown else ""))
    if tag and tag not in vocab.TAGS:
        raise InvalidInput("bad_tag", f"未知的人群类别：{tag}")
    ensure_covers(actor, area_code, "采集范围")
    campaign = Campaign.objects.create(name=name.strip()[:100], fields=list(dict.fromkeys(fields)),
                                       area_code=area_code, tag=tag, max_age_days=max(1, max_age_days),
                                       created_by=actor)
    audit.record(actor, "create", "fusion.Campaign", campaign.pk, fields=fields, reason=campaign.name)
    return campaign


def campaigns_for(user: Any) -> QuerySet[Campaign]:
    """Campaigns over any part of the user's area (a grid worker sees the
    community's campaign that covers their grid)."""
    scope = scope_of(user)
    qs = Campaign.objects.filter(active=True)
    if scope.everything:
        return qs
    ids = [c.pk for c in qs if any(p.startswith(c.area_code) or c.area_code.startswith(p)
                                   for p in scope.prefixes)]
    return qs.filter(pk__in=ids)


def get_campaign(user: Any, pk: int) -> Campaign:
    campaign = campaigns_for(user).filter(pk=pk).first()
    if campaign is None:
        raise NotFound("campaign_not_found", "未找到该采集任务，或不在您的权限范围内")
    return campaign


def targets(user: Any, campaign: Campaign) -> QuerySet[Person]:
    qs = people_for(user).filter(grid_code__startswith=campaign.area_code)
    if campaign.tag:
        qs = qs.filter(tags__tag=campaign.tag)
    return qs


@dataclass
class Ask:
    field: str
    label: str
    current: str
    reason: str  # "缺失" or "已过期（2025-01-02采集）"


def _golden_value(person: Person, field: str) -> str:
    if field == "phones":
        return "、".join(person.phones)
    if field == "tags":
        return "、".join(vocab.TAGS.get(t, t) for t in person.tags.values_list("tag", flat=True))
    if field == "address":
        return person.address.full_name if person.address else person.address_text
    if field == "employer":
        return person.employer.name if person.employer else ""
    if field == "residence_type":
        return vocab.RESIDENCE_TYPES.get(person.residence_type, "")
    value = getattr(person, field)
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


PROVENANCE_FIELD = {"address": "address_code"}


def asks_for(user: Any, campaign: Campaign, person: Person) -> list[Ask]:
    """The campaign's fields this person lacks, or whose value is older than
    the campaign allows, prefilled with what is known."""
    cutoff = timezone.now() - timedelta(days=campaign.max_age_days)
    newest: dict[str, datetime] = {}
    for field, at in Provenance.objects.filter(person=person, chosen=True).values_list("field", "observed_at"):
        newest[field] = max(at, newest.get(field, at))
    asks = []
    for field in campaign.fields:
        current = _golden_value(person, field)
        seen = newest.get(PROVENANCE_FIELD.get(field, field))
        if not current:
            asks.append(Ask(field, COLLECTABLE[field], "", "缺失"))
        elif seen is not None and seen < cutoff:
            shown_value = shown(user, Field.PHONE, current) if field == "phones" else current
            asks.append(Ask(field, COLLECTABLE[field], shown_value,
                            f"已过期（{timezone.localtime(seen):%Y-%m-%d}采集）"))
    return asks


def submit_campaign(actor: Any, campaign: Campaign, person: Person, answers: dict[str, str]) -> SourceRecord:
    """A grid worker's answers land as a source record of the grid-worker
    channel, linked to the person they visited, and the golden record is
    recomputed from all its evidence."""
    if not people_for(actor).filter(pk=person.pk).exists():
        raise NotFound("person_not_found", "未找到该人员，或不在您的权限范围内")
    asked = {f: (answers.get(f) or "").strip() for f in campaign.fields if (answers.get(f) or "").strip()}
    if not asked:
        raise InvalidInput("nothing_collected", "没有填写任何字段")
    raw, values, warnings = _validated(person, asked)
    with transaction.atomic():
        record = _grid_form_record(actor, person, raw, values, warnings,
                                   record_key=f"campaign-{campaign.pk}-person-{person.pk}")
        CampaignSubmission.objects.update_or_create(
            campaign=campaign, person=person,
            defaults={"record": record, "grid_code": person.grid_code, "submitted_by": actor})
        audit.record(actor, "collect", "registry.Person", person.pk, fields=list(asked),
                     reason=f"采集任务：{campaign.name}")
    return record


def _validated(person: Person, asked: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The answers checked like an import row of the person they are about."""
    raw: dict[str, Any] = {"name": person.name, "id_number": person.id_number or "", **asked}
    if "phones" in asked:
        raw["phone"] = raw.pop("phones")
    result = validation.validate_person(raw)
    if result.errors:
        raise InvalidInput("invalid_answers", "；".join(result.errors))
    values = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in result.values.items()
              if v not in (None, "", [])}
    return raw, values, list(result.warnings)


def _grid_form_record(actor: Any, person: Person, raw: dict[str, Any], values: dict[str, Any],
                      warnings: list[str], *, record_key: str) -> SourceRecord:
    """Land a grid worker's form about a person as the newest version of
    `record_key` from the grid-worker channel, and rebuild the golden record."""
    from wangge.fusion.linking import rebuild_people
    from wangge.fusion.services import place_record

    source = grid_source()
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False)
    record = SourceRecord(
        source=source, kind=RecordKind.PERSON, record_key=record_key, raw=raw, values=values,
        warnings=warnings, fingerprint=hashlib.sha256(payload.encode()).hexdigest(), collector=actor,
        collected_at=timezone.now(), person=person, link_status=LinkStatus.LINKED)
    place_record(record, str(values.get("address", "")))
    SourceRecord.objects.filter(source=source, record_key=record_key).update(superseded=True)
    record.save()
    rebuild_people([person.pk])
    return record


def record_correction(actor: Any, person: Person, answers: dict[str, str], *, record_key: str) -> SourceRecord:
    """Fields a grid worker corrected on a visit, as a source record (the caller
    checks scope and writes the audit entry)."""
    asked = {f: (v or "").strip() for f, v in answers.items() if (v or "").strip()}
    unknown = sorted(set(asked) - set(CORRECTABLE))
    if unknown:
        raise InvalidInput("unknown_field", f"不能在走访中更正这些字段：{'、'.join(unknown)}",
                           fields={f: "不可更正" for f in unknown})
    if not asked:
        raise InvalidInput("nothing_collected", "没有填写任何更正")
    raw, values, warnings = _validated(person, asked)
    return _grid_form_record(actor, person, raw, values, warnings, record_key=record_key)


# What a worker may correct at the door; identity fields go through the import review.
CORRECTABLE = ("phones", "address", "residence_type", "ethnicity", "hukou_area")


def campaign_progress(user: Any, campaign: Campaign) -> list[dict[str, Any]]:
    """Per grid: people targeted, people done."""
    wanted = Counter(targets(user, campaign).values_list("grid_code", flat=True))
    done = Counter(restrict(campaign.submissions.all(), user, code_field="grid_code")
                   .values_list("grid_code", flat=True))
    return [{"grid_code": grid, "targets": n, "done": done.get(grid, 0),
             "share": round(done.get(grid, 0) / n, 3) if n else 0.0} for grid, n in sorted(wanted.items())]


# --- self-registration by QR code ---------------------------------------------


def house_token(address_code: str) -> str:
    """The code printed on a house's QR label: without it the form cannot be
    opened for an arbitrary address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"self-register:{address_code}".encode(), hashlib.sha256).hexdigest()[:16]


def house_for_token(address_code: str, token: str) -> Address:
    address = Address.objects.filter(code=address_code, level="room").first()
    if address is None or not hmac.compare_digest(house_token(address_code), token or ""):
        raise NotFound("house_not_found", "二维码无效或已过期，请联系网格员")
    return address


def submit_self_registration(address: Address, raw: dict[str, str], *, client: str) -> SelfRegistration:
    since = timezone.now() - timedelta(hours=1)
    if SelfRegistration.objects.filter(client=client, submitted_at__gte=since).count() >= SELF_REPORT_PER_HOUR:
        raise InvalidInput("too_many", "提交过于频繁，请一小时后再试", status=429)
    result = validation.validate_person({**raw, "address": address.full_name})
    if result.errors:
        raise InvalidInput("invalid_registration", "；".join(result.errors))
    values = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in result.values.items()
              if v not in (None, "", [])}
    return SelfRegistration.objects.create(address=address, grid_code=address.grid_code, values=values,
                                           client=client[:64])


def pending_registrations(user: Any) -> QuerySet[SelfRegistration]:
    return restrict(SelfRegistration.objects.filter(status=SelfRegistrationStatus.PENDING), user,
                    code_field="grid_code").select_related("address")


def decide_registration(actor: Any, pk: int, *, confirm: bool) -> SelfRegistration:
    """The grid worker confirms (the values become a self-registration source
    record and are linked) or sends it back."""
    registration = pending_registrations(actor).filter(pk=pk).first()
    if registration is None:
        raise NotFound("registration_not_found", "未找到该申报，或已处理，或不在您的权限范围内")
    from wangge.fusion.linking import link_pending

    with transaction.atomic():
        registration.status = (SelfRegistrationStatus.CONFIRMED if confirm else SelfRegistrationStatus.REJECTED)
        registration.decided_by, registration.decided_at = actor, timezone.now()
        if confirm:
            values = registration.values
            payload = json.dumps(values, sort_keys=True, ensure_ascii=False)
            record = SourceRecord.objects.create(
                source=self_report_source(), kind=RecordKind.PERSON, record_key=f"self-{registration.pk}",
                raw=values, values=values, fingerprint=hashlib.sha256(payload.encode()).hexdigest(),
                collector=actor, collected_at=registration.submitted_at, address=registration.address,
                grid_code=registration.grid_code)
            registration.record = record
        registration.save()
        audit.record(actor, "confirm" if confirm else "reject", "fusion.SelfRegistration", registration.pk)
    if confirm:
        link_pending()
    return registration
