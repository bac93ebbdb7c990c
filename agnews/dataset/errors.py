"""The one error every reader raises for input it cannot use."""


class DataError(ValueError):
    """Input data that cannot be used; the message names the file (and row or byte) and says what to
    fix. Raised where the data enters, before anything is written."""
