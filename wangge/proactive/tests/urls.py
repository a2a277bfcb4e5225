"""The site's URLs plus this app's pages and API router, mounted as they will
be in wangge/urls.py and wangge/core/api.py; the tests use it until then."""

from django.urls import include, path
from ninja import NinjaAPI

from wangge.core import api as core_api
from wangge.proactive.api import router
from wangge.urls import urlpatterns as site

test_api = NinjaAPI(title="proactive (tests)", urls_namespace="proactive-test-api", auth=core_api.api.auth,
                    docs_url=None, openapi_url=None)
for error_type, handler in core_api.api._exception_handlers.items():
    test_api.add_exception_handler(error_type, handler)
test_api.add_router("/proactive", router)

urlpatterns = [
    path("api/v1/", test_api.urls),
    path("", include("wangge.proactive.urls")),
    *site,
]
