"""A book settlement's context in words: the claims behind its 本次前 figures, and
what happened to it since (adjustments, withdrawals, corrections).

Read from the book's plain records (dicts), by ``yibao audit show`` and by
``yibao explain --book``.
"""

from __future__ import annotations


def book_lines(body: dict, later: list[dict], lang: str) -> str:
    """The claims behind a book settlement's 本次前 figures, and what happened to it since."""
    zh = lang == "zh"
    person, year = body["person_id"], body["year"]
    before = body["year_to_date_from"]
    if zh:
        out = [f"\n本次前（账簿中 {person} {year} 年在本次之前结算的案件）："]
    else:
        out = [f"\nBefore this claim (the book's earlier claims of {person} in {year}):"]
    if not before:
        out.append("  无：年度累计从零开始" if zh else "  none: the year-to-date starts from zero")
    for earlier in before:
        base = ", ".join(f"{line} {amount}" for line, amount in earlier["base"].items())
        paid = ", ".join(f"{line} {amount}" for line, amount in earlier["paid"].items())
        out.append(f"  {earlier['claim_id']} {earlier['date']}: "
                   f"{'基数' if zh else 'base'} {base or '—'}; {'支付' if zh else 'paid'} {paid}")
    changes = [entry for entry in later if entry.get("kind") in ("adjustment", "withdrawal",
                                                                  "correction")]
    out.append("此后的调整：" if zh else "Changed since:")
    if not changes:
        out.append("  无" if zh else "  nothing")
    for entry in changes:
        cause = entry.get("caused_by", {})
        if entry["kind"] == "adjustment":
            out.append(f"  #{entry['seq']} {entry['line']} {entry['delta']} ({entry['direction']}), "
                       f"{'净额' if zh else 'net'} {entry['net']} — "
                       f"{'因' if zh else 'caused by'} {cause.get('claim_id')} ({cause.get('kind')})")
        else:
            out.append(f"  #{entry['seq']} {entry['kind']}")
    return "\n".join(out) + "\n"
