#!/usr/bin/env bash
# Make sure Stoplight Prism (the validating mock the SendGrid contract tests send to) is installed
# in a project-local folder, pinned to the version the spec notes were checked with. Quick when
# it is already there; needs Node and npm (Debian: apt-get install nodejs npm).
set -euo pipefail

readonly VERSION=5.14.2
readonly PREFIX="${VERDICTS_PRISM_PREFIX:-$(cd "$(dirname "$0")/.." && pwd)/.tools/prism}"
readonly BIN="$PREFIX/node_modules/.bin/prism"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "$VERSION" ]; then
    echo "ensure-prism: prism $VERSION present in $PREFIX"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-prism: npm is missing; install Node.js and npm, then run this again" >&2
    exit 1
fi
echo "ensure-prism: installing @stoplight/prism-cli@$VERSION into $PREFIX"
mkdir -p "$PREFIX"
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@stoplight/prism-cli@$VERSION" >/dev/null
"$BIN" --version
