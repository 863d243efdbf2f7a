"""``--backend columnar``: the person-years with one candidate and one version all year,
settled over NumPy int64 fen from the same evaluation graph (docs/batch.md)."""
