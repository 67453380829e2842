#!/usr/bin/env bash
# Runs the whole test suite (unit tests on tiny tensors plus short end-to-end runs on ../shared/datasets).
set -euo pipefail
cd "$(dirname "$0")"
dotnet test SegSharp.slnx -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee /tmp/segsharp-test.log | grep -vE '^\s+Passed ' || true
# Fail if the run failed, and print the closing line CI reads ("N passed, N failed").
count() { { grep -E "^\s+$1: [0-9]+\s*$" /tmp/segsharp-test.log || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
if grep -qE 'error (CS|MSB|NU)[0-9]+' /tmp/segsharp-test.log; then failed=$((failed + 1)); echo "build failed"; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$failed" != "0" ] || [ "$passed" = "0" ]; then exit 1; fi
