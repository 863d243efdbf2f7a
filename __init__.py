"""yibao: China's medical-insurance and medical-assistance rules as code.

The package is laid out as its pipeline: ``yibao.dsl`` (grammar, parser, AST,
checks) → ``yibao.compiler`` (lowering to an evaluation graph, evaluation) →
``yibao.explain`` (traces and their renderings) → ``yibao.cli``.
"""

__version__ = "0.1.0"
ENGINE_VERSION = __version__
