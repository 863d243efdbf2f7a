"""The same Benxi 2023 rule (基本救助 and 倾斜救助, §(五)) written for two peers.

Benchmark-only: OpenFisca (openfisca-core, vectorised numpy) and GoRules ZEN
(zen-engine, a JDM decision graph).  Neither is a dependency of yibao.
"""
