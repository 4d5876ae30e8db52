"""One exception hierarchy for the whole library.

Every error paint2vr raises on purpose derives from :class:`Paint2VRError` and carries a
``hint`` saying what to do about it. The CLI maps each class to one line and its ``exit_code``;
the Python API lets callers catch exactly what they expect.
"""

from __future__ import annotations


class Paint2VRError(Exception):
    """Base class of every error paint2vr raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(Paint2VRError, ValueError):
    """Bad input: a file, an array or an option that cannot be used as given."""

    exit_code = 2


class ImageLoadError(InputError):
    """A painting file that cannot be read, or is refused (too large, not an image)."""


class PaintingNotFoundError(ImageLoadError, FileNotFoundError):
    """The painting file does not exist (also a ``FileNotFoundError``, as callers expect)."""


class DepthFileError(InputError):
    """A user-supplied depth map that cannot be read or does not fit the painting."""


class DepthFileNotFoundError(DepthFileError, FileNotFoundError):
    """The depth file does not exist (also a ``FileNotFoundError``)."""


class ManifestError(InputError):
    """A batch manifest with bad rows; ``problems`` lists (line, message) pairs."""

    def __init__(self, message: str, *, problems: list[tuple[int, str]] | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class ModelError(Paint2VRError):
    """A depth model that cannot be found, loaded or trusted."""

    exit_code = 3


class ModelNotFoundError(ModelError):
    """The named model is not in the registry, not on disk, and cannot be downloaded."""


class UnsafeModelError(ModelError):
    """A model that would need pickle weights or remote code: refused."""


class LicenseError(Paint2VRError):
    """A licence does not allow this use (for example a non-commercial model in a commercial run)."""

    exit_code = 4


class BudgetError(Paint2VRError):
    """A scene over its export profile's budget that cannot be reduced to fit."""

    exit_code = 5


class ExportError(Paint2VRError):
    """The scene could not be written."""

    exit_code = 6


class BatchError(Paint2VRError):
    """A batch job that cannot start or continue (for example a locked output folder)."""

    exit_code = 7


class UnsupportedExtensionError(InputError):
    """A glTF file that needs an extension paint2vr cannot decode (``extension`` names it)."""

    def __init__(self, message: str, *, extension: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.extension = extension


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT or SIGTERM): handled like Ctrl+C; ``signum`` says
    which, and the CLI exits with 128 + signum (130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class CodecMissingError(ExportError):
    """An encoder or decoder a file format needs (basisu for KTX2, meshoptimizer) is not installed;
    the hint names the install command."""


class OptionError(InputError):
    """An option with a bad value or an unknown name; names the dotted field (``lift.max_layers``),
    what it expects and what it got."""

    def __init__(self, field: str, expected: str, actual: object, *, hint: str | None = None,
                 message: str | None = None) -> None:
        super().__init__(message or f"{field} must be {expected}, got {actual!r}", hint=hint)
        self.field = field
        self.expected = expected
        self.actual = actual
