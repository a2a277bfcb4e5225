from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentType(models.TextChoices):
    POLICE = "police", _("公安")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    HEALTH = "health", _("卫健")
    HUMAN_RESOURCES = "human_resources", _("人社")
    HOUSING = "housing", _("住建")
    URBAN_MANAGEMENT = "urban_management", _("城管")
    MARKET = "market", _("市场监管")
    EMERGENCY = "emergency", _("应急")
    ENVIRONMENT = "environment", _("生态环境")
    WATER = "water", _("水务")
    TRANSPORT = "transport", _("交通")
    JUSTICE = "justice", _("司法")
    EDUCATION = "education", _("教育")
    GOVERNANCE = "governance", _("综治")
    OTHER = "other", _("其他")


class Department(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    type = models.CharField(_("类型"), max_length=32, choices=DepartmentType.choices)
    # The area the department serves (a district code, usually); it bounds what
    # its staff may see by area.
    area_code = models.CharField(_("所属区域"), max_length=15, blank=True, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    STREET_STAFF = "street_staff", _("街道工作人员")
    DISTRICT_STAFF = "district_staff", _("区级工作人员")
    DEPARTMENT_STAFF = "department_staff", _("部门工作人员")
    COMMAND_CENTRE = "command_centre", _("指挥中心")
    POLICE = "police", _("民警")
    ADMIN = "admin", _("系统管理员")
    RESIDENT = "resident", _("居民")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.RESIDENT)
    # The user's area scope: every row whose area code starts with this is
    # theirs. Empty means no area at all (deny by default), except for admins.
    area_code = models.CharField(_("负责区域编码"), max_length=15, blank=True, db_index=True)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff",
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    failed_logins = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for a program acting as a user. Only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.name} ({self.prefix}…)"


class UserArea(models.Model):
    """A further area in a user's scope (a worker with several grids)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="extra_areas")
    area_code = models.CharField(_("区域编码"), max_length=15, db_index=True)

    class Meta:
        unique_together = [("user", "area_code")]
        verbose_name = _("附加负责区域")
        verbose_name_plural = _("附加负责区域")

    def __str__(self) -> str:
        return f"{self.user} · {self.area_code}"
