"""What each role finds in the navigation, and where it lands after login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    label: Any  # a lazy translation
    url_name: str
    roles: frozenset[str]

    @property
    def url(self) -> str:
        return reverse(self.url_name)


ALL = frozenset(Role.values)
STAFF = frozenset(set(Role.values) - {Role.RESIDENT})
PEOPLE = frozenset(STAFF - {Role.DEPARTMENT_STAFF})
IMPORTERS = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                       Role.DEPARTMENT_STAFF})
# The case centres (cases.selectors.CENTRE_ROLES): they register, dispatch and
# are evaluated; the command centre also supervises from the centre page.
CASE_CENTRES = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                          Role.COMMAND_CENTRE})
CASE_DEPARTMENTS = frozenset({Role.DEPARTMENT_STAFF, Role.POLICE})
GRID_WORKERS = frozenset({Role.GRID_WORKER})
# Who oversees grid workers' tasks, tracks and rankings (workforce.selectors.OVERSEERS).
WORKFORCE_OVERSEERS = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                                 Role.COMMAND_CENTRE, Role.POLICE})
# Who may browse the data exchange (exchange.selectors.BROWSERS), and who acts for a department in it.
EXCHANGE_BROWSERS = frozenset({Role.ADMIN, Role.DISTRICT_STAFF, Role.STREET_STAFF, Role.COMMUNITY_STAFF,
                               Role.DEPARTMENT_STAFF, Role.COMMAND_CENTRE, Role.POLICE})
EXCHANGE_DEPARTMENTS = frozenset({Role.ADMIN, Role.DEPARTMENT_STAFF})

NAV_ITEMS: tuple[NavItem, ...] = (
    # First for grid workers, so their phone's 工作台 is where they land.
    NavItem(_("工作台"), "workforce:m_home", GRID_WORKERS),
    NavItem(_("任务"), "workforce:m_tasks", GRID_WORKERS),
    NavItem(_("巡查"), "workforce:m_patrol", GRID_WORKERS),
    NavItem(_("走访"), "workforce:m_visits", GRID_WORKERS),
    NavItem(_("一张图"), "dashboard:map", STAFF),
    NavItem(_("案件中心"), "cases:centre", CASE_CENTRES),
    NavItem(_("热线录入"), "cases:hotline", CASE_CENTRES),
    NavItem(_("部门工作台"), "cases:workbench", CASE_DEPARTMENTS),
    NavItem(_("上报问题"), "cases:m_report", GRID_WORKERS),
    NavItem(_("我的上报"), "cases:m_cases", GRID_WORKERS),
    NavItem(_("待核查"), "cases:m_verify", GRID_WORKERS),
    NavItem(_("案件列表"), "cases:list", CASE_CENTRES | CASE_DEPARTMENTS),
    NavItem(_("区域与网格"), "dashboard:areas", STAFF),
    NavItem(_("地址库"), "dashboard:addresses", STAFF),
    NavItem(_("实有人口"), "registry:people", PEOPLE),
    NavItem(_("数据质量"), "fusion:quality", PEOPLE),
    NavItem(_("人工核对"), "fusion:review", PEOPLE),
    NavItem(_("采集任务"), "fusion:campaigns", PEOPLE),
    NavItem(_("数据导入"), "fusion:imports", IMPORTERS),
    NavItem(_("考核评价"), "cases:evaluation", CASE_CENTRES),
    NavItem(_("任务督办"), "workforce:tasks", WORKFORCE_OVERSEERS),
    NavItem(_("网格员"), "workforce:workers", WORKFORCE_OVERSEERS),
    NavItem(_("网格员考核"), "workforce:assessment", WORKFORCE_OVERSEERS),
    NavItem(_("主动服务"), "proactive:rules", PEOPLE),
    NavItem(_("用水数据"), "proactive:water", IMPORTERS),
    NavItem(_("派遣规则"), "cases:routing", CASE_CENTRES),
    NavItem(_("数据目录"), "exchange:catalogs", EXCHANGE_BROWSERS),
    NavItem(_("共享申请"), "exchange:applications", EXCHANGE_DEPARTMENTS),
    NavItem(_("接入凭据"), "exchange:clients", EXCHANGE_DEPARTMENTS),
    NavItem(_("共享统计"), "exchange:stats", EXCHANGE_BROWSERS),
    NavItem(_("审计日志"), "core:audit", frozenset({Role.ADMIN, Role.DISTRICT_STAFF})),
    # Everyone who may export sees their requests there; approvers also the queue.
    NavItem(_("导出审批"), "exports:list", PEOPLE),
    NavItem(_("系统管理"), "admin:index", frozenset({Role.ADMIN})),
)


def items_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    role = "admin" if user.is_superuser else user.role
    return [item for item in NAV_ITEMS if role in item.roles and _routed(item.url_name)]


def _routed(url_name: str) -> bool:
    # A page another app has not shipped yet (the grid worker's phone pages
    # arrive separately) is left out rather than breaking every page's top bar.
    try:
        reverse(url_name)
    except NoReverseMatch:
        return False
    return True


def home_url_for(user: Any) -> str:
    items = items_for(user)
    return items[0].url if items else reverse("dashboard:welcome")
