from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AddressLevel(models.TextChoices):
    ROAD = "road", _("街路巷")
    DOOR = "door", _("门牌")
    COMPOUND = "compound", _("小区")
    BUILDING = "building", _("楼栋")
    UNIT = "unit", _("单元")
    ROOM = "room", _("户室")


ADDRESS_LEVELS = [lv.value for lv in AddressLevel]


class Address(models.Model):
    """One entry of the standard address library (一标).

    Levels nest road → door number → compound → building → unit → room; a
    building may hang directly under a door number, a room directly under a
    building. The component columns hold normalised values (digits, simplified
    script) so the matcher can compare them directly.
    """

    code = models.CharField(_("地址编码"), max_length=40, unique=True)
    level = models.CharField(_("层级"), max_length=16, choices=AddressLevel.choices, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("上级地址"))
    name = models.CharField(_("本级名称"), max_length=100)
    full_name = models.CharField(_("标准地址"), max_length=300, db_index=True)
    road = models.CharField(_("街路巷"), max_length=60, blank=True)
    door_number = models.CharField(_("门牌号"), max_length=20, blank=True)
    compound = models.CharField(_("小区"), max_length=60, blank=True, db_index=True)
    building = models.CharField(_("楼栋号"), max_length=20, blank=True)
    unit = models.CharField(_("单元号"), max_length=20, blank=True)
    room = models.CharField(_("室号"), max_length=20, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    grid_code = models.CharField(_("所在网格"), max_length=15, db_index=True, blank=True)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("标准地址")
        verbose_name_plural = _("标准地址")

    def __str__(self) -> str:
        return self.full_name
