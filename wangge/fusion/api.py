"""The data-quality report and the review queue over the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from wangge.fusion import selectors

router = Router(tags=["fusion"])


class QualityOut(Schema):
    summary: dict[str, Any]
    areas: list[dict[str, Any]]
    sources: list[dict[str, Any]]


class PairOut(Schema):
    pk: int
    probability: float
    grid_code: str
    left: str
    right: str


@router.get("/quality", response=QualityOut, summary="数据质量报告：各区域完整率、各来源记录与重复、冲突")
def quality(request: HttpRequest, area: str = "") -> dict[str, Any]:
    return {"summary": selectors.quality_summary(request.user, area[:15]),
            "areas": selectors.quality_by_area(request.user, area[:15]),
            "sources": selectors.quality_by_source(request.user)}


@router.get("/review", response=list[PairOut], summary="待人工核对的记录对")
def review(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    pairs = selectors.review_queue(request.user)[:max(1, min(limit, 200))]
    return [{"pk": p.pk, "probability": p.probability, "grid_code": p.grid_code,
             "left": f"{p.left.source.code}:{p.left.record_key}",
             "right": f"{p.right.source.code}:{p.right.record_key}"} for p in pairs]
