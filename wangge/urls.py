from django.contrib import admin
from django.urls import include, path

from wangge.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("wangge.accounts.urls")),
    path("", include("wangge.dashboard.urls")),
    path("", include("wangge.registry.urls")),
    path("", include("wangge.fusion.urls")),
    path("", include("wangge.cases.urls")),
    path("", include("wangge.workforce.urls")),
    path("", include("wangge.proactive.urls")),
    path("", include("wangge.core.urls")),
    path("", include("wangge.core.export_urls")),
    path("", include("wangge.exchange.urls")),
    path("open311/v2/", include("wangge.cases.open311")),
    path("gateway/v1/", include("wangge.exchange.gateway_urls")),
]
