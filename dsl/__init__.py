"""The policy language: grammar, parser, AST and semantic checks."""
