"""The one family of refusals: errors that carry their HTTP status, code, field and words.

Every refusal the domain raises (an edit, a council step, a report, an upload, an
outline) is a `DomainError`, and the web layer turns any of them into a response in one
handler (web/errors.py): JSON `{"error": {"code", "message", "field"}}` for the API and
Open311, a page or a form message for people. The message is English text written as a
gettext msgid with `%(name)s` placeholders and its values in `params`, so the web layer
translates the words, not a substring of them; `code` is the stable machine name a
client or a page may branch on. Flask-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(ValueError):
    """A refused request; nothing was written."""

    status: ClassVar[int] = 400
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = message
        self.params: dict[str, Any] = dict(params or {})
        self.field = field
        if code is not None:
            self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The English words with the values filled in (logs, tests, the API)."""
        if not self.params:
            return self.template
        try:
            return self.template % self.params
        except (KeyError, TypeError, ValueError):  # a template that is not a format
            return self.template


class NotFoundError(DomainError):
    status = 404
    code = "not_found"


class ForbiddenError(DomainError):
    status = 403
    code = "forbidden"


class ConflictError(DomainError):
    status = 409
    code = "conflict"
