"""Snapshot regression for policy teams: the pytest fixture shipped with yibao (issue 7)."""
