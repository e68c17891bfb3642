"""The builders of a document, one module a piece: each a mixin of ``solution._Builder``."""
