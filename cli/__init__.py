"""The ``yibao`` command: one module per sub-command, each parsing its arguments and
calling the library; nothing here decides a figure."""
