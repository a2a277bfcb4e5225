"""The platform's settings plus the anchor's URLs (bench.exchange_anchor)."""

from wangge.settings import *  # noqa: F403

ROOT_URLCONF = "bench.exchange_anchor"
