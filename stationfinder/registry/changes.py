"""The registry-changed signal: one place that says "the stations changed".

Every write that changes what the public sees bumps the registry version
(`stations.bump_version`), which marks its session. When that session commits, the
`registry_changed` signal is sent with the session factory as sender, so a listener
(this worker's live index) acts on committed data only, and a rolled-back edit
announces nothing. Other workers learn of the change from the version in the
database. Flask-free: blinker and SQLAlchemy's session events.
"""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_signals = Namespace()
registry_changed = _signals.signal(
    "registry-changed", doc="Sent after a commit that changed the registry; sender: sessionmaker."
)
_FLAG = "stationfinder.registry_changed"


def mark_changed(session: Session) -> None:
    """Note that this session's transaction changes the registry."""
    session.info[_FLAG] = True


def announce_commits(sessions: sessionmaker[Session]) -> None:
    """Send `registry_changed` after each commit of a marked session made by `sessions`."""

    def committed(session: Session) -> None:
        if session.info.pop(_FLAG, False):
            registry_changed.send(sessions)

    def rolled_back(session: Session) -> None:
        session.info.pop(_FLAG, None)

    event.listen(sessions, "after_commit", committed)
    event.listen(sessions, "after_rollback", rolled_back)
