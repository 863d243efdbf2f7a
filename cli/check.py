"""`yibao check POLICY`: parse and compile; list unspecified and inherited values."""

from __future__ import annotations

import sys

from yibao.cli.main import EXIT_OK, dump_json
from yibao.core.diagnostics import render_all
from yibao.dsl.inventory import inventory
from yibao.dsl.loader import load_policy


def register(commands) -> None:
    check = commands.add_parser(
        "check", help="parse and compile a policy; list its unspecified and inherited values")
    check.add_argument("policy")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=run)


def run(args) -> int:
    from yibao.compiler.lower import lower_policy

    loaded = load_policy(args.policy)
    for version in loaded.versions:
        lower_policy(version)  # compile every version: check means parse + compile
    report = inventory(loaded)
    if loaded.warnings and args.format == "text":
        # Warnings (S250, a notice that cannot be read) go to stderr with the caret,
        # like errors, so the report on stdout stays the same shape.
        print(render_all(loaded.warnings, loaded.sources), file=sys.stderr)
    if args.format == "json":
        print(dump_json(report))
        return EXIT_OK
    policy = loaded.latest
    chain = " → ".join(f"{p.policy_id} ({p.effective})" for p in loaded.versions)
    print(f"ok {policy.policy_id}: {policy.title}")
    print(f"  versions: {chain}")
    print(f"  identities: {len(policy.identities)}  lines: "
          + ", ".join(f"{l.name}{'（上游）' if l.upstream else ''}" for l in policy.lines))
    for title, key in (("unspecified values", "unspecified"), ("inherited values", "inherited")):
        entries = report[key]
        print(f"  {title}: {len(entries)}")
        for entry in entries:
            note = f" — {entry['note']}" if entry.get("note") else ""
            print(f"    {entry['value']} [{entry['identity']}] {entry['clause']} "
                  f"({entry['version']}){note}")
    return EXIT_OK
