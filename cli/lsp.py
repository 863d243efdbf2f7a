"""`yibao lsp`: the language server for `.policy` files, over stdio.

    yibao lsp        # started by the editor (docs/editor.md: VS Code, Neovim, Emacs)

Needs the ``lsp`` extra (``pip install 'yibao[lsp]'``: pygls).
"""

from __future__ import annotations

import sys

from yibao.cli.main import EXIT_OK, EXIT_USAGE


def register(commands) -> None:
    lsp = commands.add_parser(
        "lsp", help="run the language server for .policy files (stdio; for editors)")
    lsp.add_argument("--stdio", action="store_true",
                     help="talk over standard input and output (the default and only way; "
                          "accepted because editors pass it)")
    lsp.set_defaults(handler=run)


def run(args) -> int:
    try:
        from yibao.lsp.server import serve
    except ImportError as error:
        print(f"yibao lsp needs pygls: pip install 'yibao[lsp]' ({error})", file=sys.stderr)
        return EXIT_USAGE
    serve()
    return EXIT_OK
