"""Revision regression for policy teams (issue 7): the `yibao_case` pytest plugin with its
syrupy snapshots, and case files (claims with the payouts a notice gives them) run by
`yibao test`."""
