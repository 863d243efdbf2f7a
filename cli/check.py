"""`yibao check POLICY`: parse and compile; list unspecified and inherited values."""

from __future__ import annotations

import sys

from yibao.cli.main import EXIT_OK, EXIT_USAGE, dump_json
from yibao.core.diagnostics import PolicyError, render_all, render_concise
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

    try:
        loaded = load_policy(args.policy)
        for version in loaded.versions:
            lower_policy(version)  # compile every version: check means parse + compile
    except PolicyError as error:
        if args.format != "json":
            raise  # rendered with its snippets on stderr by cli.main
        # A tool asked for JSON: the diagnostics go to stdout as JSON, not only to
        # stderr as text (it printed nothing on stdout; issue 21 item 14).
        print(dump_json({"policy_file": args.policy, "ok": False,
                         "diagnostics": [d.to_json() for d in error.diagnostics]}))
        print(render_concise(error.diagnostics[0]) if error.diagnostics else "policy error",
              file=sys.stderr)
        return EXIT_USAGE
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
