#!/usr/bin/env bash
# Runs the test suite: ./test.sh (everything: unit tests plus short end-to-end runs on ../shared/datasets), or
# ./test.sh --fast (every unit test, no end-to-end training; under a minute). Other arguments go to dotnet test.
set -euo pipefail
cd "$(dirname "$0")"
log=$(mktemp /tmp/segsharp-test.XXXXXX.log)
args=()
for a in "$@"; do
  if [ "$a" = "--fast" ]; then args+=(--filter "Tier!=EndToEnd"); else args+=("$a"); fi
done
# Build every project first (dotnet test alone skips projects no test references, e.g. the benchmark).
{ dotnet build SegSharp.slnx -c Release -nologo -v quiet 2>&1 && \
  dotnet test SegSharp.slnx -c Release --no-build --logger "console;verbosity=normal" "${args[@]}" 2>&1; } \
  | tee "$log" | grep -vE '^\s+Passed ' || true
# Fail if the run failed, and print the closing line CI reads ("N passed, N failed").
count() { { grep -E "^\s+$1: [0-9]+\s*$" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
if grep -qE 'error [A-Z]+[0-9]+' "$log"; then failed=$((failed + 1)); echo "build failed"; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$failed" != "0" ] || [ "$passed" = "0" ]; then exit 1; fi
