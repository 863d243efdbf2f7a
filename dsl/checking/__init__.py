"""The checker's passes, one module each; ``dsl/checker.py`` runs them in order.

Each pass reads and extends one :class:`~yibao.dsl.checking.state.CheckState`:
the diagnostics so far and the identities, fields and lines declared so far.
"""
