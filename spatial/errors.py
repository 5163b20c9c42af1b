"""Errors the spatial core raises about its input. No HTTP here: ``api/errors.py`` maps them."""


class InputError(ValueError):
    """Bad input: ``field`` names the offending field, ``reason`` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UnknownCode(InputError):
    """A code (category, area, department ...) that does not exist."""


class SwappedCoordinates(InputError):
    """The point only makes sense with longitude and latitude exchanged."""


class OutsideServiceArea(InputError):
    """A point too far from every district to be a real position here."""
