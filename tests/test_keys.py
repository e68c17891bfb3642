"""A key is a type: its name and indices read once, and written back as the spec writes it."""

from hypothesis import given
from hypothesis import strategies as st

from symprop.model.keys import Key

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True)
indices = st.lists(st.one_of(st.integers(0, 99).map(str), st.sampled_from(["t", "t-1", "t+1"])), max_size=3)


@given(names, indices)
def test_a_key_reads_back_as_written(name, index):
    text = name + "".join(f"[{i}]" for i in index)
    key = Key.parse(text)
    assert (key.name, list(key.indices), str(key)) == (name, index, text)
    assert key.numbers() == (tuple(int(i) for i in index) if all(i.isdigit() for i in index) else None)


def test_examples():
    assert Key.parse("W[1][0]") == Key("W", ("1", "0")) and Key.parse("W[1][0]").numbers() == (1, 0)
    assert Key.parse("L").indices == () and Key.parse("h[t-1]").numbers() is None
