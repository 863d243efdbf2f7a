"""`yibao lsp`: the language server for `.policy` files (pygls, over stdio).

One module per job: ``positions`` (LSP's UTF-16 columns), ``analysis`` (a
document's parse, check and lint, cached by version), ``symbols`` (what each
name in the file is and where it is defined), and one module per feature.
"""
