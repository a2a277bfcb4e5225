"""The demo city's registry: department files with their mistakes, imported
through the real pipeline and fused into golden records."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from wangge.demo.generator import generate_city
from wangge.registry.models import (
    Batch,
    House,
    Household,
    Organisation,
    Person,
    Provenance,
    SourceRecord,
    Tenancy,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path / "media"
    return generate_city(seed=5, people=1200, cases=False)["registry"]


def test_demo_registry_is_fused_from_noisy_department_files(demo):
    batches = Batch.objects.filter(kind="person")
    assert batches.count() == 6 and all(b.status == "done" for b in batches)
    assert demo["bad_rows"] > 0, "the departments' mistakes are reported, not silently dropped"
    assert demo["records"] == SourceRecord.objects.filter(kind="person").count()
    people = Person.objects.count()
    assert 1100 <= people <= 1300, "about one golden person per generated resident"
    multi = Person.objects.annotate(n=Count("records__source", distinct=True)).filter(n__gte=2).count()
    assert multi > people * 0.6, "most people are known to several departments"
    assert Provenance.objects.filter(chosen=True).exists()
    assert Person.objects.exclude(grid_code="").count() > people * 0.9


def test_demo_has_households_houses_tenancies_and_organisations(demo):
    assert Household.objects.count() > 300
    assert House.objects.filter(use="rented").exists() and Tenancy.objects.exists()
    assert Organisation.objects.exclude(credit_code=None).count() == demo["organisations"]
