"""A quantity's key as a type: a name and its indices, as the spec writes it
(``W``, ``h[2]``, ``W[1][0]``, ``h[t-1]``).  The layers read a key's parts
here rather than slicing its text."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    """``name[i][j]…``: a named value, one of its steps, or one of its entries."""

    name: str
    indices: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Key":
        """"W[1][0]" → Key("W", ("1", "0")); "L" → Key("L")."""
        head, *rest = text.split("[")
        return cls(head, tuple(i.rstrip("]") for i in rest))

    def numbers(self) -> tuple[int, ...] | None:
        """The indices as whole numbers, None when one is not (h[t-1])."""
        try:
            return tuple(int(i) for i in self.indices)
        except ValueError:
            return None

    def __str__(self) -> str:
        return self.name + "".join(f"[{i}]" for i in self.indices)
