#!/bin/sh
# Build the VS Code extension, yibao-policy-<version>.vsix, beside this script
# (never published).  Needs node and npm; fetches vscode-languageclient and
# @vscode/vsce from the npm registry into a scratch copy, so nothing is left here
# but the .vsix.  Install it with: code --install-extension yibao-policy-*.vsix
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here"/. "$work"
rm -f "$work"/*.vsix "$work"/package.sh
cd "$work"
npm install --omit=dev --no-audit --no-fund
npx --yes @vscode/vsce package --allow-missing-repository --out "$here/"
