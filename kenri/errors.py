"""Errors kenri raises on purpose: each carries a message meant for the person at the CLI or API."""


class KenriError(Exception):
    """Base class: a clear, user-facing error (bad input, unknown id, refused action)."""


class NotFound(KenriError):
    """An id or name that names nothing in the registry."""


class Ambiguous(KenriError):
    """A name that matches several records; the message lists them so the user can pick one."""


class InvalidInput(KenriError):
    """Input that breaks the schema or the rules (bad purpose, bad date, missing field)."""


class Forbidden(KenriError):
    """An action the actor may not take (wrong party or role for this object or state)."""


class TooLarge(InvalidInput):
    """Input over a configured size limit (an upload, a prompt, a batch)."""


class Unauthorized(KenriError):
    """A credential that is missing, unknown, revoked or expired."""


class MediaError(KenriError):
    """A file that is not a readable image or video."""
