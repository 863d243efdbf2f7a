"""`yibao test POLICY_DIR`: run the case files kept next to the policies.

    yibao test policies                      # every policies/cases/*.yaml
    yibao test policies/cases/benxi-2023.yaml

Exit status: 0 every case passed; 1 a case failed (expected vs actual and the
trace steps behind the actual figure are printed); 2 a case file or a policy
is wrong.  (The module is not named test_*.py so that pytest never collects it.)
"""

from __future__ import annotations

import pathlib
import sys

from yibao.cli.main import EXIT_CLAIMS_FAILED, EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    test = commands.add_parser(
        "test", help="run case files (claims with expected payouts) against their policies")
    test.add_argument("target", help="a policy folder (its cases/ are run) or one case file")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.set_defaults(handler=run)


def run(args) -> int:
    from yibao.testing.cases import CaseFileError
    from yibao.testing.report import render_results
    from yibao.testing.runner import case_files, run_case_dir, run_case_file

    target = pathlib.Path(args.target)
    try:
        if target.is_dir():
            if not case_files(target):
                print(f"yibao: no case files in {target} (looked for cases/*.yaml)",
                      file=sys.stderr)
                return EXIT_USAGE
            results = run_case_dir(target)
        elif target.is_file():
            results = run_case_file(target)
        else:
            print(f"yibao: {target}: no such file or folder", file=sys.stderr)
            return EXIT_USAGE
    except CaseFileError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render_results(results, args.verbose))
    return EXIT_OK if all(r.passed for r in results) else EXIT_CLAIMS_FAILED
