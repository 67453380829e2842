#!/usr/bin/env bash
# Runs the test suite: ./test.sh (everything: unit tests plus short end-to-end runs on ../shared/datasets), or
# ./test.sh --fast (the unit tests: no end-to-end training, and none of the Reference sweeps that export every architecture or
# run other frameworks' checkers over them; under a minute). Other arguments go to dotnet test.
#
# On a fresh machine it first installs what the tests need and is missing (Debian packages: the independent
# references in python3-torch/torchvision/onnx/scipy/pil/sklearn, Open MPI, jupyter-nbconvert, the real MLflow server's
# packages from ../shared/mlflow-server/start.sh, Node.js for the workflow linters), and prints what it installed.
# Without root (and without sudo) it prints the exact apt-get line and stops before running anything.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

fast=0
args=()
for a in "$@"; do
  if [ "$a" = "--fast" ]; then fast=1; args+=(--filter "Tier!=EndToEnd&Tier!=Reference"); else args+=("$a"); fi
done

fail() { echo "test.sh: $*" >&2; exit 2; }
command -v dotnet >/dev/null 2>&1 || fail "the .NET 10 SDK is required (see global.json): https://dot.net"
for dataset in isbi2012-membrane camvid-sequences; do
  [ -d "../shared/datasets/$dataset" ] || fail "../shared/datasets/$dataset is missing; the tests read it (see ../shared/datasets/README.md)"
done
mlflow_start=../shared/mlflow-server/start.sh
[ -f "$mlflow_start" ] || fail "$mlflow_start is missing; the tracking tests run against that real MLflow server"

# The Debian packages the tests use. The MLflow server's list has one source: its own start script.
packages=(python3-torch python3-torchvision python3-onnx python3-scipy python3-pil python3-sklearn fonts-dejavu-core openmpi-bin jupyter-nbconvert)
read -r -a mlflow_packages <<<"$(sed -n '/^DEBS="/,/"$/p' "$mlflow_start" | tr -d '"' | sed 's/^DEBS=//' | tr '\n' ' ')"
[ ${#mlflow_packages[@]} -gt 5 ] || fail "could not read the package list (DEBS=...) from $mlflow_start"
packages+=("${mlflow_packages[@]}")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)    # any Node.js with npm will do, Debian's or not
if [ ${#missing[@]} -gt 0 ]; then
  install_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"
  else fail "the tests need Debian packages that are missing; as root run: $install_line"
  fi
  echo "test.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
  $sudo apt-get update -qq || fail "apt-get update failed; as root run: $install_line"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install failed; as root run: $install_line"
  echo "test.sh: installed ${missing[*]}"
fi

log=$(mktemp /tmp/segsharp-test.XXXXXX.log)
# The tests' scratch folders (datasets, runs, exports: gigabytes over a full run) go under one folder per run
# (TestPaths.TempFolder), removed when the run passes and kept, with its path printed, when it fails; leftovers of
# runs older than a day are removed first.
export SEGSHARP_TEST_RUN="run-$(date +%Y%m%d-%H%M%S)-$$"
scratch="${TMPDIR:-/tmp}/segsharp-tests/$SEGSHARP_TEST_RUN"
find "${TMPDIR:-/tmp}/segsharp-tests" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
if [ "$fast" = 0 ]; then
  # The GitHub Actions workflows, checked with real linters (versions pinned in .ci/lint/package-lock.json).
  npm ci --prefix .ci/lint --no-audit --no-fund --loglevel=error >/dev/null
  node .ci/lint/lint-workflows.mjs
fi
# Exact package versions come from Directory.Packages.props and the lock files.
dotnet restore SegSharp.slnx --locked-mode -v quiet
# Build every project first (dotnet test alone skips projects no test references, e.g. the benchmark).
{ dotnet build SegSharp.slnx -c Release --no-restore -nologo -v quiet 2>&1 && \
  dotnet test SegSharp.slnx -c Release --no-build --logger "console;verbosity=normal" "${args[@]}" 2>&1; } \
  | tee "$log" | grep -vE '^\s+Passed ' || true
# Every skip says why (xunit prints "Skipped NAME" and the reason on the next line).
if grep -qE '^\s+Skipped ' "$log"; then
  echo "skipped tests and why:"
  grep -A1 -E '^\s+Skipped [A-Za-z]' "$log" | grep -vE '^--$' || true
fi
# Fail if the run failed, and print the closing line CI reads ("N passed, N failed, N skipped").
count() { { grep -E "^\s+$1: [0-9]+\s*$" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
if grep -qE 'error [A-Z]+[0-9]+' "$log"; then failed=$((failed + 1)); echo "build failed"; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$failed" != "0" ] || [ "$passed" = "0" ]; then echo "test files kept in $scratch"; exit 1; fi
rm -rf "$scratch"
