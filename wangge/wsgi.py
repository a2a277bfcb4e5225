import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
django_application = get_wsgi_application()

# Imported after Django is set up: the gateway's modules use the ORM.
from wangge.exchange.gateway_wsgi import GatewayDispatch, gateway_only  # noqa: E402

application = GatewayDispatch(django_application)
gateway_application = gateway_only
