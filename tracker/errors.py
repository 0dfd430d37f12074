"""The one hierarchy of refusals a service raises, and what each surface answers for it.

Services raise a :class:`DomainError` subclass when a change cannot be made; they never return
an error value and never roll back. One handler per surface turns the error into an answer:

* pages (:mod:`tracker.web`): roll back, then either render the form again with the
  user's input and the message beside the field (when the view said how, with
  :func:`tracker.web.on_error_render`), or flash the message and redirect back;
* the JSON API (:mod:`tracker.api.errors`): roll back and answer the ``{"error", "message",
  "fields"}`` envelope with :attr:`DomainError.status`.

The message is shown to the user as it is, so it is written in Chinese for them.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A change refused for a reason the user can act on.

    ``field`` names the form field (or API body field) the message belongs beside, if any.
    ``code`` is the API's machine-readable error code.
    """

    status = 409
    code = "invalid_state"

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    """The input is not acceptable (a value out of range, a required reason missing)."""

    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    """The actor may not make this change: pages answer 403, the API 403."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """What the change refers to does not exist (or is not the actor's to see)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The change is not possible in the object's current state (submitted, decided, …)."""

    status = 409
    code = "invalid_state"


class Stale(Conflict):
    """Someone else changed the object since the actor read it."""

    code = "stale_version"
