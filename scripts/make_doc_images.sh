#!/usr/bin/env bash
# Draw the pictures docs/ shows, from the shipped policies: run after a change to a
# view or to a policy they draw, and commit the pictures with the change.
# The provenance line under each title carries the last commit's time
# (SOURCE_DATE_EPOCH), so redrawing an unchanged tree gives the same picture.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
YIBAO="${YIBAO:-.venv/bin/yibao}"
# The meeting view of Benxi (docs/views.md, README).
"$YIBAO" graph policies/benxi-2023.policy --summary -o docs/images/benxi-summary.png
# One line of the full graph with a claim laid over it (docs/views.md).
"$YIBAO" graph policies/benxi-2023.policy --line 基本救助 --claim bx-0007 \
    --claims policies/examples/benxi-2023.jsonl -o docs/images/benxi-bx-0007-basic-assistance.png
