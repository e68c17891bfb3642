"""The lettered questions a document asks (the spec's parts, or the default ones) and which piece answers each."""



from ...model.spec import PartSpec, in_language
from ..blocks import Para, Part, UserText
from ..maths import FunctionName
from .base import _letter_in, _sym

# the pieces that derive the formulas of the backward pass (symbolically)
DERIVING = {"bptt", "unrolled", "closed", "shared", "algorithm", "local", "composite", "entries", "update_rule",
            "activation"}


class Questions:
    """The lettered questions a document asks (the spec's parts, or the default ones) and which piece answers each., as methods of the document's builder."""

    def default_pieces(self, numeric: bool) -> list[str]:
        """symprop's own order, when the spec names no parts.

        A worked solution answers what the spec asks (the forward pass and the
        loss, every parameter's gradient, the step when it has a learning rate),
        with the formulas that answer needs and nothing more: the term-by-term
        unrolling, the boxed factors and the algorithm are ``derive``'s, or a
        part's when ``[[document.parts]]`` asks for them.
        """
        if numeric:
            return self.solution_pieces()
        pieces = []
        if self.program.recurrent:
            pieces += ["bptt", "unrolled"]
        elif self.matrix is None:
            pieces += ["closed", "shared", "algorithm"] if self.story is not None else ["backward"]
        if self.matrix is not None:
            pieces.append("matrix")
        return pieces

    def solution_pieces(self) -> list[str]:
        """The forward pass, the formulas of the backward pass (the recursion through time of a
        scalar cell, or the matrix form), its numbers, the gradients and the step."""
        pieces = ["forward"]
        if self.matrix is not None:
            pieces.append("matrix")
        elif self.program.recurrent:
            pieces.append("bptt")
        pieces += ["backward", "gradients"]
        return pieces + (["step"] if self.problem.training.lr is not None else [])

    def parts(self, solution) -> list[Part]:
        specs = self.problem.parts or tuple(PartSpec((piece,)) for piece in self.default_pieces(solution is not None))
        letters = self.word("letters")
        parts, used = [], 0
        for spec in specs:
            blocks = []
            for piece in spec.show:
                blocks += self.piece(piece, solution)
            letter = _letter_in(spec.letter, self.lang) if spec.letter else letters[min(used, len(letters) - 1)]
            used = letters.index(letter) + 1 if letter in letters else used + 1
            if not blocks:
                continue
            question = in_language(spec.question, self.lang) if spec.question else None
            words = [UserText(question)] if question is not None else []
            for piece in spec.show:  # each question knows the pieces shown before it
                if question is None:
                    words += self.question(piece).parts + [" "]
                self.shown |= {piece.partition(":")[0]}
            parts.append(Part(Para(words if question is not None else words[:-1]), blocks, letter))
        return parts

    def question(self, piece: str) -> Para:
        """The question a piece answers (the matrix form is "the same derivatives" only after
        a piece shown before it derived them)."""
        name, _, arg = piece.partition(":")
        if name == "step":
            return self.p("q_step", lr=self.num(self.problem.training.lr or 0))
        if name == "matrix" and not DERIVING & self.shown:
            return self.p("q_matrix_rnn_first" if self.program.recurrent else "q_matrix_first")
        if name == "activation":
            f, _, g = arg.partition("=")
            return self.p("q_activation", f=_sym(f.strip()), g=FunctionName(g.strip()))
        return self.p("q_" + name)

    def piece(self, piece: str, solution) -> list:
        """The blocks of one piece; [] when this problem has none of it."""
        name, _, arg = piece.partition(":")
        numeric = solution is not None
        if name in ("forward", "gradients", "step") and not numeric:
            return []
        if name == "step" and self.problem.training.lr is None:
            return []
        if name == "activation":
            return self.activation(*[x.strip() for x in arg.split("=")])
        blocks = getattr(self, "piece_" + name)(solution.first if numeric else None, solution)
        if self.carried == "now":  # said once, after the first line whose numbers carry more decimals
            self.carried = "said"
            blocks = blocks + [self.p("working_digits")]
        return blocks
