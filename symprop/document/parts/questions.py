"""The lettered questions a document asks (the spec's parts, or the default ones) and which piece answers each."""



from ...model.spec import PartSpec, in_language
from ..blocks import Para, Part, UserText
from ..maths import FunctionName
from .base import _letter_in, _sym


class Questions:
    """The lettered questions a document asks (the spec's parts, or the default ones) and which piece answers each., as methods of the document's builder."""

    def default_pieces(self, numeric: bool) -> list[str]:
        """symprop's own order, when the spec names no parts."""
        pieces = ["forward"] if numeric else []
        if self.program.recurrent:
            pieces += ["bptt", "unrolled"]
        elif self.matrix is None:
            if self.story is not None:
                pieces += ["closed", "shared", "algorithm"]
            elif not numeric:
                pieces.append("backward")
        if self.matrix is not None:
            pieces.append("matrix")
        if numeric:
            pieces += ["backward", "gradients"]
            if self.problem.training.lr is not None:
                pieces.append("step")
        return pieces

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
            if question is None:
                question = Para([x for piece in spec.show for x in self.question(piece).parts + [" "]][:-1])
            else:
                question = Para([UserText(question)])
            parts.append(Part(question, blocks, letter))
        return parts

    def question(self, piece: str) -> Para:
        name, _, arg = piece.partition(":")
        if name == "step":
            return self.p("q_step", lr=self.num(self.problem.training.lr or 0))
        if name == "matrix" and not self.program.recurrent and self.matrix is not None and self.scalar is False:
            return self.p("q_matrix_first")
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
