"""TOML problem specs: read, validate, and turn into a ``Problem``.

Every error is a ``SympropError`` whose one line names the file, the key and
what is wrong.  docs/spec-format.md is the reference users read.
"""

import keyword
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SympropError
from ..languages import LANGUAGES
from .claim_syntax import ClaimContext, ClaimSpec, is_structure_key, read_claim
from .functions import RULES, built_in_names, internal_names
from .kinds import ClaimKind
from .parse import (  # noqa: F401  (LOSS: every layer imports it from here)
    LOSS,
    MAX_TEXT,
    NAME,
    TIME,
    check_syntax,
    constant_value,
    keyword_message,
    names_in,
    time_indexed_names,
)
from .reading import MAX_AXES, MAX_FILE, in_language, load_toml, read_array

MAX_EQUATIONS = 2_000
MAX_STEPS = 100_000
MAX_ENTRIES = 100_000  # numbers in one value
MAX_PARAM_ENTRIES = 100_000
MAX_DIMENSION = 10_000  # rows or columns of one value
MAX_NUMBER = 10**100  # a number in a value, a claim, a bound
MIN_VARIANT_STEP = 1e-6  # [variants] step: a grid of numbers worked by hand

TOP_KEYS = {"title", "source", "lang", "model", "values", "conventions", "training", "expected", "document",
            "variants"}
DOCUMENT_KEYS = {"statement", "parts"}
PART_KEYS = {"letter", "question", "show"}
# What a part of a worked solution may show (the document layer writes each).
PIECES = (
    "forward", "composite", "closed", "shared", "update_rule", "algorithm", "local", "activation",
    "backward", "gradients", "step", "bptt", "unrolled", "matrix", "entries", "vectorized",
)
MODEL_KEYS = {"params", "functions", "equations", "loss", "steps", "initial", "reduce", "shapes"}
CLAIM_KINDS = ("loss", "value", "adjoint", "grad", "updated")
RESERVED = {TIME, "T", LOSS}

Number = float | np.ndarray


@dataclass(frozen=True)
class Equation:
    line: int  # 1-based line within model.equations
    target: str
    recurrent: bool  # written as name[t] = ...
    text: str  # the right-hand side


@dataclass(frozen=True)
class Conventions:
    relu_grad_at_zero: float = 0.0
    index_base: int = 0


@dataclass(frozen=True)
class Training:
    lr: float | None = None
    batches: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True)
class PartSpec:
    """One part of the source's problem: what it shows, under which letter."""

    show: tuple[str, ...]  # names from PIECES, or "activation:f=sigmoid"
    letter: str | None = None  # the source's letter; None: the next one
    question: dict[str, str] = field(default_factory=dict)  # the source's wording, by language


@dataclass(frozen=True)
class NumericClaim:
    """A number, a vector or a matrix a source claims in ``[expected]``, and how it
    is compared, entry by entry: within tol + rtol·|computed|, or, with ``digits``,
    as the source printed it to that many decimals (rounded, or else truncated)."""

    value: Number  # a float; a flat list is 1-d (a vector either way), a list of lists 2-d
    kind: ClaimKind  # LOSS, VALUE, ADJOINT, GRAD, UPDATED, or FINAL (the loss after the last update)
    name: str = ""  # what value./adjoint./grad./updated. names, with its indices: "W[1][0]"
    step: int | None = None  # step.K.: the K-th training step, from 1; None: the first (updated: the last)
    tol: float = 1e-3
    rtol: float = 0.0
    digits: int | None = None


@dataclass
class Built:
    """What the layers below build from a problem, each once and kept here by
    the function that builds it (``program_of``, ``graph_of``, ``derivation_of``,
    ``matrix_form_of``): a stage hands the next its finished value."""

    program: object = None  # derive.program.Program
    graph: object = None  # derive.graph.Graph, the scalar graph
    derivation: object = None  # derive.backprop.Derivation
    matrix_form: object = None  # derive.sweep.MatrixForm


@dataclass
class Problem:
    """A validated problem spec: data.  The API (``symprop.api.Problem``) runs the
    pipeline on it; ``built`` holds what the layers below build from it."""

    origin: str  # the file name used in messages
    title: str
    source: str | None
    lang: str
    params: list[str]
    functions: list[str]
    equations: list[Equation]
    loss: str
    steps: int | None = None
    initial: dict[str, object] = field(default_factory=dict)
    initial_params: dict[str, str] = field(default_factory=dict)  # a state whose h[0] is a parameter: h -> h0
    reduce: str = "sum"
    shapes: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    conventions: Conventions = Conventions()
    training: Training = Training()
    expected: dict[str, NumericClaim] = field(default_factory=dict)  # by key, as written after "expected."
    tolerance: float = 1e-3
    computed: bool = False  # [expected] computed = true: an answer key's answers, not a source's
    claims: tuple[ClaimSpec, ...] = ()  # formula.* and through_time.* in [expected] (claim_syntax.py)
    sequences: frozenset[str] = frozenset()  # names indexed by time
    # names given as a list of lists, a 2-d array or 2-d shapes (a sequence's
    # items, an initial state): the rest are NumPy's 1-d vectors
    matrices: frozenset[str] = frozenset()
    titles: dict[str, str] = field(default_factory=dict)  # by language, when the spec gives a table
    sources: dict[str, str] = field(default_factory=dict)
    statement: dict[str, str] = field(default_factory=dict)  # the source's problem text, by language
    parts: tuple["PartSpec", ...] = ()  # the source's parts; empty: symprop's default order
    variants: "VariantBounds | None" = None  # [variants]: how new values for the problem are drawn
    data: dict = field(default_factory=dict, repr=False, compare=False)  # the TOML as read
    built: Built = field(default_factory=Built, repr=False, compare=False)

    def first_values(self) -> dict:
        """The values of the first step: [values], with the first batch's in place."""
        return dict(self.values, **(self.training.batches[0] if self.training.batches else {}))

    def title_in(self, lang: str) -> str:
        return in_language(self.titles, lang) or self.title

    def source_in(self, lang: str) -> str | None:
        return in_language(self.sources, lang) if self.sources else self.source

    @property
    def recurrent(self) -> bool:
        return self.steps is not None


def load(spec: str | Path, text: str | None = None) -> Problem:
    """Read a spec from a path (or from ``text``, named ``spec`` in messages)."""
    data, folder = load_toml(spec, text)
    return from_dict(data, str(spec), folder)


def from_dict(data: dict, origin: str = "<spec>", folder: Path | None = None) -> Problem:
    """Validate parsed TOML and build a Problem; array files (``"W.npy"``,
    ``"weights.npz:W"``) are read from ``folder`` and below (none without one)."""
    r = _Reader(origin, folder)
    if not isinstance(data, dict):
        raise SympropError(f"a spec must be a table, got {_toml_type(data)}", where=origin)
    r.keys(data, TOP_KEYS, "")
    _no_huge_integers(r, data)
    lang, titles, sources = _heading(r, data, origin)
    model = r.table(data, "model", required=True)
    r.keys(model, MODEL_KEYS, "model")
    params, functions, steps = _header(r, model)
    r.callable = built_in_names() | set(functions)
    equations, loss, reduce = _lines(r, model, steps)
    texts = [e.text for e in equations] + [loss]
    sequences = _sequences(r, equations, texts, steps)
    assigned = {e.target for e in equations}
    mentioned = set().union(*(names_in(t) for t in texts))
    given_initial = model.get("initial") if isinstance(model.get("initial"), dict) else {}
    initial_params = {n: v for n, v in given_initial.items() if isinstance(v, str) and v in params}
    mentioned |= set(initial_params.values())  # h0 of initial = { h = "h0" } is used by the model
    for name in sorted(set(functions) & (mentioned | assigned | set(params))):
        raise r.error("model.functions", f"'{name}' is a function and also used as a name")
    _names(r, params, equations, loss, mentioned | assigned, functions)
    _params_used(r, params, assigned, sequences, mentioned)
    shapes = _shapes(r, model)
    initial = _initial(r, model, sequences, initial_params)
    values = _values(r, data, mentioned | set(params) | _claim_names(data), assigned, sequences, steps)
    conventions = _conventions(r, r.table(data, "conventions"))
    training = _training(r, r.table(data, "training"), values, mentioned, sequences)
    context = ClaimContext(
        params=frozenset(params), assigned=frozenset(assigned),
        recurrent=frozenset(e.target for e in equations if e.recurrent), sequences=sequences,
        mentioned=frozenset(mentioned), functions=frozenset(functions), steps=steps, given=frozenset(values),
    )
    table = dict(r.table(data, "expected"))
    computed = table.pop("computed", False)
    if not isinstance(computed, bool):
        raise r.error("expected.computed", "must be true or false (true: the answers of an answer key, "
                                           "computed, not a source's)")
    expected, tolerance, claims = _expected(r, table, context, training)
    statement, parts = _document(r, r.table(data, "document"), functions)
    variants = _variants(r, r.table(data, "variants"), values)
    return Problem(
        variants=variants, data=data, origin=origin, title=in_language(titles, lang),
        source=in_language(sources, lang) if sources else None, lang=lang, titles=titles, sources=sources,
        statement=statement, parts=parts, params=params, functions=functions, equations=equations, loss=loss,
        steps=steps, initial=initial, initial_params=initial_params, reduce=reduce, shapes=shapes,
        values=values, conventions=conventions, training=training, expected=expected, tolerance=tolerance, computed=computed,
        claims=claims, sequences=sequences, matrices=_matrices(r, model, values, initial, initial_params),
    )


def _no_huge_integers(r: "_Reader", data: dict) -> None:
    """Refuse, before any reader meets it, a whole number past 1e100 anywhere in
    the spec (TOML's integers have no bound; float() of one of 309 digits fails)."""
    stack = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{where}.{k}" if where else str(k), v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            stack += [(where, v) for v in value]
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise r.error(where, "an integer too large (numbers are at most 1e100 in absolute value)")


def _lines(r: "_Reader", model: dict, steps: int | None) -> tuple[list, str, str]:
    """model.equations, model.loss (their constants checked) and model.reduce."""
    equations = _equations(r, model, steps is not None)
    loss = r.string(model, "loss", "model.loss", required=True)
    r.expression(loss, "model.loss")
    _constants(r, equations, loss)
    reduce = r.string(model, "reduce", "model.reduce") or "sum"
    if reduce not in ("sum", "mean"):
        raise r.error("model.reduce", f"must be \"sum\" or \"mean\", got {reduce!r}")
    return equations, loss, reduce


def _sequences(r: "_Reader", equations: list, texts: list[str], steps: int | None) -> frozenset[str]:
    """The names indexed by time: read as x[t], or computed by a [t] line."""
    sequences = frozenset().union(*(time_indexed_names(t) for t in texts))
    sequences |= {e.target for e in equations if e.recurrent}
    if sequences and steps is None:
        name = sorted(sequences)[0]
        raise r.error("model.equations", f"'{name}' is indexed by t but model.steps is not set")
    return sequences


def _heading(r: "_Reader", data: dict, origin: str) -> tuple[str, dict, dict]:
    """The language, and the title and source by language (the file's name for a title not given)."""
    lang = r.string(data, "lang") or "en"
    if lang not in LANGUAGES:
        raise r.error("lang", f"must be one of {', '.join(LANGUAGES)}, got {_clip(lang)!r}")
    return lang, r.by_language(data, "title") or {lang: _untitled(origin)}, r.by_language(data, "source")


def _header(r: "_Reader", model: dict) -> tuple[list[str], list[str], int | None]:
    """model.params, model.functions and model.steps."""
    params = r.name_list(model, "params", "model.params", required=True)
    if not params:
        raise r.error("model.params", "needs at least one parameter")
    functions = r.name_list(model, "functions", "model.functions")
    for f in functions:
        if f in built_in_names():
            raise r.error("model.functions", f"'{f}' is a built-in function and cannot be redefined")
    steps = model.get("steps")
    if steps is not None and (type(steps) is not int or not 1 <= steps <= MAX_STEPS):
        raise r.error("model.steps", f"must be a whole number from 1 to {MAX_STEPS}")
    return params, functions, steps


def _params_used(r: "_Reader", params, assigned, sequences, mentioned) -> None:
    for p in params:
        if p in assigned:
            raise r.error("model.params", f"'{p}' is a parameter and cannot be assigned in equations")
        if p in sequences:
            raise r.error("model.params", f"parameter '{p}' cannot change with time")
        if p not in mentioned:
            raise r.error("model.params", f"parameter '{p}' is not used by the model")


def _shapes(r: "_Reader", model: dict) -> dict[str, tuple[int, ...]]:
    """[model.shapes]: [rows, cols], [rows] for a 1-d vector (kept as a column),
    or the sizes of more axes, [N, C, H, W]."""
    shapes = {}
    for name, shape in r.table(model, "shapes", where="model.shapes").items():
        key = f"model.shapes.{name}"
        if not isinstance(shape, list) or not 1 <= len(shape) <= MAX_AXES or any(
            type(n) is not int or not 1 <= n <= MAX_DIMENSION for n in shape
        ):
            raise r.error(key, f"must be [rows, cols], [rows] or up to {MAX_AXES} sizes, "
                               f"whole numbers from 1 to {MAX_DIMENSION}")
        if math.prod(shape) > MAX_PARAM_ENTRIES:
            raise r.error(key, f"has {math.prod(shape)} entries (the limit is {MAX_PARAM_ENTRIES})")
        shapes[name] = (shape[0], 1) if len(shape) == 1 else tuple(shape)
    return shapes


def _values(r: "_Reader", data: dict, used: set, assigned, sequences, steps) -> dict:
    """[values]: each name the model (or a formula claim) reads; a sequence as a list by t."""
    values = {}
    for name, value in r.table(data, "values").items():
        key = f"values.{name}"
        if keyword.iskeyword(name):
            raise r.error(key, keyword_message(name))
        if not NAME.match(name):
            raise r.error(key, "is not a valid name")
        if name in assigned:
            raise r.error(key, f"'{name}' is computed by the equations and cannot be given")
        if name not in used:
            raise r.error(key, f"'{name}' is not used by the model (nor by a formula claim)")
        if name not in sequences:
            values[name] = r.value(value, key)
            continue
        if not isinstance(value, list):
            raise r.error(key, f"'{name}' changes with time: give a list indexed by t from 0")
        values[name] = [r.value(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if steps is not None and len(values[name]) > steps + 1:
            raise r.error(key, f"has {len(values[name])} items but steps = {steps}")
    return values


def _matrices(r: "_Reader", model: dict, values: dict, initial: dict, initial_params: dict) -> frozenset[str]:
    """The names given as 2-d (lists of lists, a 2-d array, 2-d shapes); the rest are 1-d."""
    return frozenset(
        [n for n in values if f"values.{n}" in r.matrices or any(w.startswith(f"values.{n}[") for w in r.matrices)]
        + [n for n in initial if f"model.initial.{n}" in r.matrices]
        + [n for n, p in initial_params.items() if f"values.{p}" in r.matrices]
        + [n for n, s in r.table(model, "shapes", where="model.shapes").items() if isinstance(s, list) and len(s) == 2]
    )


# name = …, name[t] = …, or an update of an earlier value: c += …, -=, *=, /=, **=, @=
_ASSIGNMENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[\s*t\s*\])?\s*(\*\*|[-+*/@])?=(?!=)(.*)\Z")


def _equations(r: "_Reader", model: dict, recurrent_model: bool) -> list[Equation]:
    text = r.string(model, "equations", "model.equations", required=True)
    if len(text) > MAX_FILE:
        raise r.error("model.equations", "is too long")
    equations = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"model.equations line {number}"
        m = _ASSIGNMENT.match(line)
        if not m:
            raise r.error(where, f"expected 'name = expression', got {_clip(line)!r}")
        target, time, update, rhs = m.group(1), m.group(2), m.group(3), m.group(4).strip()
        if keyword.iskeyword(target):
            raise r.error(where, keyword_message(target))
        if target in built_in_names():
            raise r.error(where, f"'{target}' is a built-in function ({target}(…)); give this quantity another name")
        if not NAME.match(target) or target in RESERVED:
            raise r.error(where, f"'{target}' cannot be assigned")
        if time and not recurrent_model:
            raise r.error(where, f"'{target}[t]' needs model.steps")
        r.expression(rhs, where)
        if update:  # c += a is c = c + (a): a new version of c
            if time:
                raise r.error(where, f"'{target}[t] {update}=' is not allowed: write {target}[t] = …")
            if target not in {e.target for e in equations if not e.recurrent}:
                raise r.error(where, f"'{target} {update}= …' needs an earlier line '{target} = …'")
            rhs = f"{target} {update} ({rhs})"
        equations.append(Equation(number, target, bool(time), rhs))
        if len(equations) > MAX_EQUATIONS:
            raise r.error("model.equations", f"has more than {MAX_EQUATIONS} equations")
    if not equations:
        raise r.error("model.equations", "has no equations")
    return equations


def _names(r: "_Reader", params: list[str], equations: list[Equation], loss: str, names: set[str],
           functions: list[str]) -> None:
    """Every name a valid one that cannot clash with symprop's own."""
    internal = internal_names(functions)
    reserved = RESERVED if any(e.recurrent for e in equations) else RESERVED - {"T"}
    for name in sorted(names):
        if NAME.match(name) and name not in reserved and name not in internal:
            continue
        where = next((f"model.equations line {e.line}" for e in equations
                      if name == e.target or name in names_in(e.text)), "model.loss")
        if name in params:
            where = "model.params"
        if not NAME.match(name):
            raise r.error(where, f"{_clip(name)!r} is not a valid name (a letter, then letters, digits or _)")
        why = {LOSS: "the loss", "T": "the number of steps in a recurrent model's documents",
               TIME: "the time index"}.get(
            name, "a function symprop uses inside")
        raise r.error(where, f"'{name}' is reserved ({why}); give this quantity another name")


def _constants(r: "_Reader", equations: list[Equation], loss: str) -> None:
    """Every constant part, through the lines (``a = 10**100`` then
    ``b = a**1000``), must be a real float64: refused here, before any work."""
    known = {}
    lines = [(e.text, f"model.equations line {e.line}", None if e.recurrent else e.target) for e in equations]
    for text, where, target in [*lines, (loss, "model.loss", None)]:
        try:
            value = constant_value(text, known)
        except SympropError as e:
            raise r.error(where, str(e)) from None
        if target is not None:
            known.pop(target, None)
            if value is not None:
                known[target] = value


def _conventions(r: "_Reader", table: dict) -> Conventions:
    r.keys(table, {"relu_grad_at_zero", "index_base"}, "conventions")
    relu0 = table.get("relu_grad_at_zero", 0)
    if type(relu0) not in (int, float) or relu0 not in (0, 0.5, 1):
        raise r.error("conventions.relu_grad_at_zero", "must be 0, 0.5 or 1")
    base = table.get("index_base", 0)
    if type(base) is not int or base not in (0, 1):
        raise r.error("conventions.index_base", "must be 0 or 1")
    return Conventions(float(relu0), base)


def _training(r: "_Reader", table: dict, values, mentioned, sequences) -> Training:
    r.keys(table, {"lr", "batches"}, "training")
    lr = table.get("lr")
    if lr is not None:
        lr = r.number(lr, "training.lr")
        if not isinstance(lr, float) or lr <= 0:
            raise r.error("training.lr", "must be a positive number")
    batches = table.get("batches", [])
    if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
        raise r.error("training.batches", "must be an array of tables ([[training.batches]])")
    if batches and lr is None:
        raise r.error("training.batches", "needs training.lr")
    parsed = []
    for i, batch in enumerate(batches):
        entry = {}
        for name, value in batch.items():
            key = f"training.batches[{i}].{name}"
            if name not in mentioned:
                raise r.error(key, f"'{name}' is not used by the model")
            if name in sequences:
                if not isinstance(value, list):
                    raise r.error(key, "changes with time: give a list indexed by t from 0")
                entry[name] = [r.value(v, f"{key}[{j}]") for j, v in enumerate(value)]
            else:
                entry[name] = r.value(value, key)
        parsed.append(entry)
    return Training(lr, tuple(parsed))


# [step.K.]loss, value.NAME, adjoint.NAME, grad.PARAM, updated.PARAM (NAME with [i][j]); final.loss
_CLAIM = re.compile(r"(?:step\.(\d+)\.)?(loss|value|adjoint|grad|updated)(?:\.([A-Za-z][A-Za-z0-9_]*(?:\[\d+\])*))?\Z")
FINAL_LOSS = "final.loss"
RULE_KEYS = ("value", "tol", "rtol", "digits")  # a claim given as a table
MAX_DIGITS = 15


def _document(r: "_Reader", table: dict, functions: list[str]) -> tuple[dict[str, str], tuple[PartSpec, ...]]:
    """[document]: the source's problem text and its parts."""
    r.keys(table, DOCUMENT_KEYS, "document")
    statement = r.by_language(table, "statement", "document.statement")
    raw = table.get("parts", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise r.error("document.parts", "must be an array of tables ([[document.parts]])")
    if len(raw) > 26:
        raise r.error("document.parts", f"has {len(raw)} parts (the limit is 26)")
    parts = []
    for i, part in enumerate(raw):
        where = f"document.parts[{i}]"
        r.keys(part, PART_KEYS, where)
        show = part.get("show")
        if not isinstance(show, list) or not show or not all(isinstance(x, str) for x in show):
            raise r.error(f"{where}.show", "must be a non-empty list of strings")
        for piece in show:
            name, _, arg = piece.partition(":")
            if name not in PIECES:
                raise r.error(f"{where}.show", f"unknown piece {_clip(piece)!r} (known: {', '.join(PIECES)})")
            if name == "activation":
                m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([a-z_]+)\s*", arg)
                if not m or m.group(1) not in functions or m.group(2) not in RULES or RULES[m.group(2)].inputs != 1:
                    raise r.error(f"{where}.show", f"{_clip(piece)!r}: write 'activation:f=sigmoid', f one of "
                                  "model.functions and sigmoid a built-in function")
            elif arg:
                raise r.error(f"{where}.show", f"{_clip(piece)!r}: only 'activation' takes an argument")
        letter = r.string(part, "letter", f"{where}.letter")
        if letter is not None and not re.fullmatch(r"\w{1,3}", letter):
            raise r.error(f"{where}.letter", f"must be one to three letters, got {_clip(letter)!r}")
        question = r.by_language(part, "question", f"{where}.question")
        parts.append(PartSpec(tuple(s.strip() for s in show), letter, question))
    return statement, tuple(parts)


def _claim_key(key: str) -> re.Match | None:
    """The parts of a numeric claim's key, or None for another key."""
    m = _CLAIM.match(key)
    return m if m and (m.group(2) == "loss") == (m.group(3) is None) else None


def _expected(r: "_Reader", table: dict, context: ClaimContext, training: Training) -> tuple[
        dict[str, NumericClaim], float, tuple[ClaimSpec, ...]]:
    """[expected]: the numbers a source claims ([step.K.]loss, value.*, adjoint.*,
    grad.*, updated.*, and final.loss), each with its rule (the spec-wide
    tolerance, rtol or digits, or its own table), the spec-wide tolerance, and
    its claims about formulas and structure (formula.grad.*, formula.adjoint.*,
    through_time.*; see claim_syntax.py)."""
    flat = {}

    def walk(prefix: str, value):
        if isinstance(value, dict) and not (prefix == FINAL_LOSS or _claim_key(prefix)):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:  # a number, or a claim's own table: { value = 0.3589, tol = 1e-4 }
            flat[prefix] = value

    walk("", table)
    default = _rule(r, "expected", {k: flat.pop(k) for k in ("tolerance", "rtol", "digits") if k in flat},
                    "tolerance", (1e-3, 0.0, None))
    steps = len(training.batches) or 1
    claims, structure = {}, []
    for key, value in flat.items():
        where = f"expected.{key}"
        if is_structure_key(key):
            try:
                structure.append(read_claim(key, value, context))
            except SympropError as e:
                raise r.error(where, str(e)) from None
            continue
        m = _claim_key(key)
        if key.startswith("final.") and key != FINAL_LOSS:
            raise r.error(where, "only final.loss can be claimed (the loss after the last update)")
        if not m and key != FINAL_LOSS:
            raise r.error(where, "is not a claim: use loss, value.NAME, adjoint.NAME, grad.PARAM or "
                                 "updated.PARAM (each may start with step.K.), final.loss "
                                 "(or formula.grad.PARAM, formula.adjoint.NAME, through_time.PARAM)")
        kind, name, step = ("final", "", None) if not m else (m.group(2), m.group(3) or "", m.group(1))
        if step is not None and not 1 <= int(step) <= steps:
            raise r.error(where, f"step {int(step)} is out of range: " + (
                f"there are {steps} steps, one a [[training.batches]] entry: step.1 to step.{steps}" if steps > 1
                else "there is one step (no [[training.batches]]): step.1"))
        if kind in (ClaimKind.UPDATED, ClaimKind.FINAL) and training.lr is None:
            raise r.error(where, "needs training.lr")
        number, (tol, rtol, digits) = _claimed_number(r, where, value, default)
        claims[key] = NumericClaim(number, ClaimKind(kind), name, None if step is None else int(step), tol, rtol, digits)
    return claims, default[0], tuple(structure)


def _claimed_number(r: "_Reader", where: str, value, default: tuple):
    """A claimed number (a list: a vector, as a column or as a row) and its rule:
    the spec-wide one, or its own table { value = 0.3589, tol = 1e-4 }."""
    rule = default
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(RULE_KEYS))
        if unknown:
            raise r.error(where, f"unknown key{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(map(repr, unknown))} (a claim's table takes {', '.join(RULE_KEYS)})")
        if "value" not in value:
            raise r.error(where, "needs value: { value = 0.36, tol = 1e-4 }")
        if len(value) > 1:
            rule = _rule(r, where, {k: v for k, v in value.items() if k != "value"}, "tol", (0.0, 0.0, None))
        value = value["value"]
    number = r.number(value, where)
    if isinstance(value, list) and not isinstance(value[0], list):
        number = number.reshape(-1)
    digits = rule[2]
    if digits is not None:
        scaled = np.asarray(number) * 10.0**digits
        if np.any(np.abs(scaled - np.round(scaled)) > 1e-6 * np.maximum(1.0, np.abs(scaled))):
            raise r.error(where, f"has more than {digits} decimals, but digits = {digits}")
    return number, rule


def _rule(r: "_Reader", where: str, given: dict, tol_key: str, default: tuple) -> tuple[float, float, int | None]:
    """(tol, rtol, digits) from expected.tolerance, .rtol and .digits (``tol_key``
    "tolerance"), or from a claim's own tol, rtol and digits ("tol"); what is not
    given is 0, and nothing given is ``default``."""
    if not given:
        return default

    def error(key: str, message: str) -> SympropError:  # expected.rtol: …, or expected.grad.w: rtol …
        return r.error(f"{where}.{key}", message) if tol_key == "tolerance" else r.error(where, f"{key} {message}")

    for key in (tol_key, "rtol"):
        v = given.get(key, 0.0)
        if type(v) not in (int, float) or not math.isfinite(v) or v < 0:
            raise error(key, "must be a non-negative number")
    digits = given.get("digits")
    if digits is not None and (type(digits) is not int or not 0 <= digits <= MAX_DIGITS):
        raise error("digits", f"must be a whole number from 0 to {MAX_DIGITS}")
    if digits is not None and (tol_key in given or "rtol" in given):
        raise error("digits", f"is given with {tol_key if tol_key in given else 'rtol'}: give one of them")
    return float(given.get(tol_key, 0.0)), float(given.get("rtol", 0.0)), digits


ROLES = ("one-hot", "distribution", "probability", "positive")  # what a value means, kept by its variants


@dataclass(frozen=True)
class VariantBounds:
    """[variants]: the range of each value a variant draws (``w = [-1, 1]``),
    what a value means (``y = "one-hot"``, a role of ROLES) and the grid step
    (``step = 0.5``); None where the spec says nothing."""

    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    step: float | None = None
    roles: dict[str, str] = field(default_factory=dict)
    redraw: frozenset[str] = frozenset()  # names whose zeros are drawn anew (zeros = "redraw" or a list)


def _variants(r: "_Reader", table: dict, values: dict) -> VariantBounds | None:
    if not table:
        return None
    bounds, step, roles, redraw = {}, None, {}, frozenset()
    for name, given in table.items():
        key = f"variants.{name}"
        if name == "zeros":
            redraw = _zeros(r, given, values)
            continue
        if name == "step":
            step = r.number(given, key)
            if not isinstance(step, float) or step <= 0:
                raise r.error(key, "must be a positive number")
            if step < MIN_VARIANT_STEP:
                raise r.error(key, f"is {step:g}: a step is at least {MIN_VARIANT_STEP:g} (the limit)")
            continue
        if name not in values:
            raise r.error(key, f"'{name}' has no value under [values] to vary")
        if isinstance(given, str):
            roles[name] = _role(r, key, given, values[name])
            continue
        if (not isinstance(given, list) or len(given) != 2
                or not all(type(v) in (int, float) and math.isfinite(v) for v in given) or given[0] >= given[1]):
            raise r.error(key, f"must be [low, high] with low < high, or a role: {', '.join(ROLES)}")
        bounds[name] = (float(given[0]), float(given[1]))
    return VariantBounds(bounds, step, roles, redraw)


def _zeros(r: "_Reader", given, values: dict) -> frozenset[str]:
    """[variants] zeros: "keep" (a value given as 0 stays 0, the default), "redraw"
    (every zero is drawn as the other numbers are), or the names whose zeros are redrawn."""
    if given == "keep":
        return frozenset()
    if given == "redraw":
        return frozenset(values)
    if isinstance(given, list) and given and all(isinstance(n, str) for n in given):
        for name in given:
            if name not in values:
                raise r.error("variants.zeros", f"'{_clip(name)}' has no value under [values]")
        return frozenset(given)
    raise r.error("variants.zeros", 'must be "keep", "redraw" or a list of names whose zeros are redrawn')


def _role(r: "_Reader", key: str, role: str, value) -> str:
    """A role of ROLES; one-hot and distribution are for vectors (a matrix: each row)."""
    if role not in ROLES:
        raise r.error(key, f"must be [low, high] or a role ({', '.join(ROLES)}), got {_clip(role)!r}")
    items = value if isinstance(value, list) else [value]
    if role in ("one-hot", "distribution") and not all(isinstance(v, np.ndarray) and v.size > 1 for v in items):
        raise r.error(key, f"a {role} value is a vector (or a matrix, one a row), not a number")
    return role


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


class _Reader:
    """Typed access to the TOML tables, raising errors that name the key."""

    def __init__(self, origin: str, folder: Path | None = None):
        self.origin = origin
        self.folder = folder
        self.callable: set[str] = set()
        self.matrices: set[str] = set()  # keys given as a list of lists or a 2-d array file

    def error(self, key: str, message: str) -> SympropError:
        return SympropError(f"{key}: {message}", where=self.origin)

    def keys(self, table: dict, allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                place = f"{where}.{key}" if where else key
                raise self.error(place, f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def given(self, data: dict, key: str, where: str, required: bool):
        """The value under ``key``, or None when there is none and none is required."""
        value = data.get(key)
        if value is None and required:
            raise self.error(where, f"is required{_WRITE.get(where, '')}")
        return value

    def table(self, data: dict, key: str, required: bool = False, where: str | None = None) -> dict:
        where = where or key
        value = self.given(data, key, where, required)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(where, f"must be a table, got {_toml_type(value)}")
        return value

    def string(self, data: dict, key: str, where: str | None = None, required: bool = False):
        where = where or key
        value = self.given(data, key, where, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(where, f"must be a string, got {_toml_type(value)}")
        return value

    def by_language(self, data: dict, key: str, where: str | None = None, required: bool = False) -> dict[str, str]:
        """A string, or a table of strings by language: {"ru": "…", "en": "…"}."""
        where = where or key
        value = self.given(data, key, where, required)
        if value is None:
            return {}
        if isinstance(value, str):
            return {"": value}
        if not isinstance(value, dict) or not value:
            raise self.error(where, f"must be a string or a table by language, got {_toml_type(value)}")
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.error(f"{where}.{lang}", f"is not a language (known: {', '.join(LANGUAGES)})")
            if not isinstance(text, str):
                raise self.error(f"{where}.{lang}", f"must be a string, got {_toml_type(text)}")
        return dict(value)

    def name_list(self, data: dict, key: str, where: str, required: bool = False) -> list[str]:
        value = self.given(data, key, where, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(where, "must be a list of names")
        for name in value:
            if keyword.iskeyword(name):
                raise self.error(where, keyword_message(name))
            if not NAME.match(name) or name in RESERVED - {"T"}:
                raise self.error(where, f"{_clip(name)!r} is not a valid name")
        if len(set(value)) != len(value):
            raise self.error(where, "lists a name twice")
        return list(value)

    def expression(self, text: str, where: str) -> None:
        if len(text) > MAX_TEXT:
            raise self.error(where, f"expression is {len(text)} characters long (the limit is {MAX_TEXT})")
        try:
            check_syntax(text, self.callable)
        except SympropError as e:
            raise self.error(where, str(e)) from None

    def number(self, value, where: str) -> Number:
        """A scalar, a list (column vector) or a list of lists (matrix row by row)."""
        if isinstance(value, bool) or isinstance(value, str | dict):
            raise self.error(where, f"must be a number or a list of numbers, got {_toml_type(value)}")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise self.error(where, f"must be finite, got {value}")
            if abs(value) > 1e100:
                raise self.error(where, "is too large")
            return float(value)
        if not isinstance(value, list) or not value:
            raise self.error(where, f"must be a number or a non-empty list, got {_toml_type(value)}")
        widths = [len(v) for v in value if isinstance(v, list)]
        self.dimensions(where, (len(value), max(widths)) if widths else (len(value),))
        if all(isinstance(v, list) for v in value) and any(isinstance(x, list) for v in value for x in v):
            array = np.array(self._nested(value, where), dtype=float)  # an array of 3 axes or more
        elif all(isinstance(v, list) for v in value):
            widths = {len(v) for v in value}
            if len(widths) != 1 or 0 in widths:
                raise self.error(where, "matrix rows must all have the same length")
            rows = [[self._entry(x, where) for x in row] for row in value]
            array = np.array(rows, dtype=float)
        elif any(isinstance(v, list) for v in value):
            raise self.error(where, "mixes numbers and lists")
        else:
            array = np.array([[self._entry(x, where)] for x in value], dtype=float)
        if array.size > MAX_ENTRIES:
            raise self.error(where, f"has {array.size} entries (the limit is {MAX_ENTRIES})")
        return array

    def value(self, value, where: str) -> Number:
        """A number, a list, a list of lists, or an array file beside the spec:
        ``"W.npy"`` or ``"weights.npz:W"`` (1-d: a column vector; 2-d: a matrix)."""
        if not isinstance(value, str):
            if isinstance(value, list) and value and isinstance(value[0], list):
                self.matrices.add(where)
            return self.number(value, where)
        try:
            array = read_array(value, self.folder, MAX_ENTRIES)
        except SympropError as e:
            raise self.error(where, str(e)) from None
        if not np.all(np.isfinite(array)) or np.any(np.abs(array) > 1e100):
            bad = array.reshape(-1)[np.argmax(~np.isfinite(array.reshape(-1)) | (np.abs(array.reshape(-1)) > 1e100))]
            raise self.error(where, f"entries must be finite numbers up to 1e100, got {bad}")
        self.dimensions(where, array.shape)
        if array.ndim >= 2:
            if array.ndim > MAX_AXES:
                raise self.error(where, f"has {array.ndim} axes (the most is {MAX_AXES})")
            self.matrices.add(where)
            return array
        return float(array) if array.ndim == 0 else array.reshape(-1, 1)

    def _nested(self, value, where: str, depth: int = 1) -> list:
        """Lists nested to the same depth and length on each level: NumPy's
        array of that many axes (a batch of images, N×C×H×W)."""
        if not isinstance(value, list):
            return self._entry(value, where)
        if depth > MAX_AXES:
            raise self.error(where, f"is nested more than {MAX_AXES} deep")
        if not value or len({_depth_and_length(v) for v in value}) != 1:
            raise self.error(where, "nested lists must have the same length on each level (an array of "
                                    "N×C×H×W is N lists of C lists of H rows of W numbers)")
        return [self._nested(v, where, depth + 1) for v in value]

    def dimensions(self, where: str, shape: tuple) -> None:
        """Refuse a value with more than MAX_DIMENSION rows or columns."""
        if any(n > MAX_DIMENSION for n in shape):
            raise self.error(where, f"is {'x'.join(map(str, shape))}: a dimension is at most {MAX_DIMENSION} "
                                    "(the limit)")

    def _entry(self, x, where: str) -> float:
        if isinstance(x, bool) or not isinstance(x, int | float):
            raise self.error(where, f"entries must be numbers, got {_toml_type(x)}")
        if not math.isfinite(x) or abs(x) > 1e100:
            raise self.error(where, f"entries must be finite numbers, got {x}")
        return float(x)


def _depth_and_length(v) -> tuple[int, int]:
    """How deep lists are nested at their first entries, and the length of the outer one."""
    depth, first = 0, v
    while isinstance(first, list) and first:
        depth, first = depth + 1, first[0]
    return depth, len(v) if isinstance(v, list) else 0


def _initial(r: "_Reader", model: dict, sequences, initial_params: dict[str, str]) -> dict:
    """[model.initial]: each state's numbers at t = 0 (a state named by a
    parameter, initial_params, is that parameter's)."""
    initial = {}
    for name, value in r.table(model, "initial", where="model.initial").items():
        where = f"model.initial.{name}"
        if name not in sequences:
            raise r.error(where, "is not a recurrent state (no name[t] equation)")
        if isinstance(value, str) and NAME.match(value) and name not in initial_params:
            raise r.error(where, f"'{value}' is not a parameter: list it in model.params "
                                 f"to take the gradient with respect to the initial state")
        if name not in initial_params:
            initial[name] = r.value(value, where)
    return initial


# What to write for a required key that is missing.
_WRITE = {
    "model": ": add a [model] table with params, equations and loss",
    "model.params": ': list the names to differentiate by, params = ["w"]',
    "model.equations": ': write one "name = expression" a line, equations = "z = w * x"',
    "model.loss": ': write the objective, loss = "(z - y)**2"',
}


def _claim_names(data: dict) -> set[str]:
    """The names the formula claims of [expected] read (a value may serve only them)."""
    expected = data.get("expected")
    names: set[str] = set()
    if not isinstance(expected, dict):
        return names
    for key, text in expected.items():
        if isinstance(key, str) and key.startswith("formula.") and isinstance(text, str):
            try:
                names |= names_in(text)
            except SympropError:
                continue  # the claim's own reader says what is wrong with it
    return names


def _untitled(origin: str) -> str:
    """A spec without a title is named by its file."""
    stem = Path(origin).stem if origin not in ("<spec>", "-", "<stdin>") else ""
    stem = "".join(c if c.isprintable() else " " for c in stem).strip()
    return stem or "Problem"


def _toml_type(value) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
