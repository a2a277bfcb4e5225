from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.areas.codes import LEVEL_NAMES

BASE_LAYER = "base"


class Layer(models.Model):
    """A grid layer. `base` is the administrative hierarchy down to unit grids;
    the others are specialised layers (police, fire, traffic …) with polygons of
    their own ("多网融合")."""

    code = models.CharField(_("编码"), max_length=32, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("网格图层")
        verbose_name_plural = _("网格图层")

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    class Level(models.TextChoices):
        CITY = "city", LEVEL_NAMES["city"]
        DISTRICT = "district", LEVEL_NAMES["district"]
        STREET = "street", LEVEL_NAMES["street"]
        COMMUNITY = "community", LEVEL_NAMES["community"]
        GRID = "grid", LEVEL_NAMES["grid"]

    layer = models.ForeignKey(Layer, on_delete=models.PROTECT, related_name="areas",
                              default=BASE_LAYER, verbose_name=_("图层"))
    code = models.CharField(_("编码"), max_length=15, db_index=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("上级"))
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS-84.
    geometry = models.JSONField(_("边界"), null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(_("面积（平方米）"), null=True, blank=True)
    households = models.PositiveIntegerField(_("户数"), default=0)
    responsible_unit = models.CharField(_("责任单位"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["layer", "code"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "code"], name="area_code_unique_in_layer"),
        ]
        indexes = [models.Index(fields=["layer", "level"])]
        verbose_name = _("区域")
        verbose_name_plural = _("区域")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
