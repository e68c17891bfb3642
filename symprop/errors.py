"""The one error type the library raises for bad input."""


class SympropError(Exception):
    """A problem with the user's input, said in one line.

    The message names the file, the key and what is wrong, so the CLI can
    print it as it is and exit 1.
    """

    def __init__(self, message: str, *, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, where: str) -> "SympropError":
        """The same error, prefixed with a place (file, key) when it has none."""
        if self.where:
            return self
        return SympropError(str(self), where=where)
