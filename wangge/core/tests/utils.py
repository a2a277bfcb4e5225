"""Test helpers for core: channels that record or fail instead of sending."""

from __future__ import annotations

from typing import Any, ClassVar

from wangge.core.models import Notification

RECORDER = "wangge.core.tests.utils.Recorder"
BROKEN = "wangge.core.tests.utils.Broken"


class Recorder:
    """Keeps (channel, username, title) of every message it is asked to send."""

    name = "sms"
    sent: ClassVar[list[tuple[str, str, str]]] = []

    def send(self, recipient: Any, notification: Notification) -> None:
        Recorder.sent.append((self.name, recipient.username, notification.title))


class Broken:
    """A gateway that is down."""

    name = "sms"
    calls: ClassVar[int] = 0

    def send(self, recipient: Any, notification: Notification) -> None:
        Broken.calls += 1
        raise ConnectionError("gateway unreachable")
