"""`yibao fmt [--check] PATH...`: lay policy files out in the one canonical style.

Rewrites files in place; ``--check`` changes nothing and exits 1 listing the
files that would change (for CI); ``--diff`` prints the changes instead.
Comments and meaning are kept (the result parses to the same AST).  Exit 2
when a file does not parse.
"""

from __future__ import annotations

import difflib
import sys

from yibao.cli.main import EXIT_OK, EXIT_USAGE, render_policy_error

EXIT_WOULD_CHANGE = 1


def register(commands) -> None:
    fmt = commands.add_parser("fmt", help="lay policy files out in the canonical style")
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="policy files or folders")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 listing the files that would change")
    fmt.add_argument("--diff", action="store_true",
                     help="change nothing; print the changes as a unified diff")
    fmt.set_defaults(handler=run)


def run(args) -> int:
    from yibao.core.diagnostics import PolicyError
    from yibao.dsl.format import FormatError, format_policy
    from yibao.dsl.parser import read_policy_text
    from yibao.lint.paths import policy_files

    changed, failed, files = [], 0, policy_files(args.paths)
    for path in files:
        try:
            source = read_policy_text(path)
            formatted = format_policy(source, str(path))
        except PolicyError as error:
            print(render_policy_error(error), file=sys.stderr)
            failed += 1
            continue
        except FormatError as error:
            print(f"yibao fmt: {error}", file=sys.stderr)
            failed += 1
            continue
        if formatted == source:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                source.splitlines(True), formatted.splitlines(True), str(path), str(path)))
        elif args.check:
            print(f"would reformat {path}")
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(formatted)
            print(f"reformatted {path}")
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    print(f"{len(changed)} file(s) {verb}, {len(files) - len(changed) - failed} unchanged"
          + (f", {failed} failed" if failed else ""), file=sys.stderr)
    if failed:
        return EXIT_USAGE
    return EXIT_WOULD_CHANGE if changed and (args.check or args.diff) else EXIT_OK
