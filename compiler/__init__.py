"""Lowering a checked policy to its evaluation graph: the graph's nodes and ops,
conditions in graph form, and each op's arithmetic written once.  Running a
claim through the graph is yibao.runtime's job."""
