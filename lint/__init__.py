"""Static checks of policies for drafters: `yibao lint` (issue 4).

``lint_paths(files)`` lints policy files (settings from the nearest
pyproject.toml's ``[tool.yibao.lint]``) and returns a report per file, each
finding a :class:`~yibao.core.diagnostics.Diagnostic` with a stable code;
:mod:`yibao.lint.rules` holds one module per rule, :mod:`yibao.lint.shares`
the over-protection analysis.
"""
