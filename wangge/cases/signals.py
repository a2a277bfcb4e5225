"""What other apps may listen to. `case_moved` is sent inside the step's
transaction, so a receiver's writes commit or roll back with the step.

    case_moved.send(sender=Case, case=case, step="handle", by=user, at=now)
"""

from django.dispatch import Signal

case_moved = Signal()
