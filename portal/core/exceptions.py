"""Domain errors. Services raise them; views copy them onto forms or answer them as JSON."""
from portal.core.policy import PermissionDenied  # noqa: F401  (re-exported: one place to import from)


class DomainError(Exception):
    """A refusal a user can act on. `message` is already translated (lazy strings are fine)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class ValidationError(DomainError):
    """Bad input for `field` (None: the form as a whole)."""

    def __init__(self, field: str | None, message):
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """The action does not fit the object's current state (e.g. already accepted, edited meanwhile)."""


class NotFound(DomainError):
    """Absent, or outside the caller's reach (which must look the same)."""
