"""Lint settings from ``[tool.yibao.lint]`` in the nearest pyproject.toml.

::

    [tool.yibao.lint]
    disable = ["L302"]                       # rules off everywhere
    severity = { L105 = "error" }            # a rule's severity changed
    ceiling = "95%"                          # L201: Xinjiang §四
    upstream-share = "0%"                    # L201: what upstream lines are taken to pay
    zero-contribution = ["特困人员", "孤儿"]   # L203: Jilin §一(三), when a policy says nothing

    [tool.yibao.lint.per-file-disable]
    "policies/benxi-2023.policy" = ["L104"]  # glob patterns, relative to pyproject.toml

A setting that is not understood is an error, never silently ignored.
"""

from __future__ import annotations

import fnmatch
import pathlib
import re
import tomllib
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import attrs

from yibao.core.diagnostics import Severity

_CODE = re.compile(r"L\d{3}")


class ConfigError(Exception):
    pass


@attrs.frozen
class LintConfig:
    disable: frozenset[str] = frozenset()
    severity: tuple[tuple[str, Severity], ...] = ()
    per_file_disable: tuple[tuple[str, frozenset[str]], ...] = ()
    ceiling: Fraction = Fraction(95, 100)
    upstream_share: Fraction = Fraction(0)
    zero_contribution: tuple[str, ...] = ("特困人员", "孤儿")
    root: pathlib.Path | None = None     # the folder per-file patterns are relative to
    source: str = "defaults"             # where the settings came from

    def disabled_for(self, path: str) -> frozenset[str]:
        codes = set(self.disable)
        if self.root is not None and self.per_file_disable:
            relative = _relative(pathlib.Path(path), self.root)
            for pattern, pattern_codes in self.per_file_disable:
                if relative is not None and fnmatch.fnmatch(relative, pattern):
                    codes |= pattern_codes
        return frozenset(codes)


def _relative(path: pathlib.Path, root: pathlib.Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def discover_config(start: pathlib.Path) -> LintConfig:
    """The settings of the nearest pyproject.toml above ``start`` (defaults if none)."""
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return load_config(pyproject)
    return LintConfig()


def load_config(pyproject: pathlib.Path) -> LintConfig:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{pyproject}: cannot read it: {error}") from None
    table = data.get("tool", {}).get("yibao", {}).get("lint", {})
    return config_from_table(table, pyproject.parent, str(pyproject))


_KEYS = {"disable", "severity", "per-file-disable", "ceiling", "upstream-share",
         "zero-contribution"}


def config_from_table(table: dict, root: pathlib.Path | None, where: str = "settings") -> LintConfig:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: [tool.yibao.lint] has no setting {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(_KEYS))}")
    per_file = table.get("per-file-disable", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{where}: per-file-disable is a table of glob = [codes]")
    default = LintConfig()
    upstream_share = _share(table.get("upstream-share", "0%"), "upstream-share", where)
    if upstream_share >= 1:
        raise ConfigError(f"{where}: upstream-share must be below 100%")
    return LintConfig(
        disable=_codes(table.get("disable", []), "disable", where),
        severity=tuple((code, _severity(level, code, where))
                       for code, level in _table(table.get("severity", {}), where).items()),
        per_file_disable=tuple((pattern, _codes(codes, pattern, where))
                               for pattern, codes in per_file.items()),
        ceiling=_share(table.get("ceiling", "95%"), "ceiling", where),
        upstream_share=upstream_share,
        zero_contribution=tuple(_names(table.get("zero-contribution",
                                                 list(default.zero_contribution)), where)),
        root=root,
        source=where,
    )


def _codes(value, what: str, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) and _CODE.fullmatch(c)
                                              for c in value):
        raise ConfigError(f"{where}: {what} must be a list of rule codes such as \"L104\"")
    return frozenset(value)


def _table(value, where: str) -> dict:
    if not isinstance(value, dict) or not all(_CODE.fullmatch(code) for code in value):
        raise ConfigError(f"{where}: severity is a table of code = \"error\"|\"warning\"|\"info\"")
    return value


def _severity(level, code: str, where: str) -> Severity:
    try:
        return Severity(level)
    except ValueError:
        raise ConfigError(f"{where}: severity of {code} must be error, warning or info") from None


def _share(value, what: str, where: str) -> Fraction:
    text = str(value).strip()
    try:
        share = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{where}: {what} must be a percentage such as \"95%\"") from None
    if not 0 <= share <= 1:
        raise ConfigError(f"{where}: {what} must be between 0% and 100%")
    return Fraction(share)


def _names(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(f"{where}: zero-contribution must be a list of identity names")
    return value
