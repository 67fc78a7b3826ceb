"""Signals other packages listen to, so the workflow package never imports them."""
from blinker import Namespace

_signals = Namespace()

# Sent after every engine run, before the save is flushed: sender=instance,
# ready=list of ReadyTask, completed=bool (the whole process finished), fired_timers=list of FiredTimer.
instance_advanced = _signals.signal("instance-advanced")
