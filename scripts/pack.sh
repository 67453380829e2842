#!/usr/bin/env bash
# Packs SegSharp's two packages into OUT_DIR (default: packages/): the library SegSharp and the .NET tool SegSharp.Tool
# (its linux-x64 package and the small package that points to it). The version is Directory.Build.props' <Version>.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-packages}")"
for project in src/SegSharp src/SegSharp.Cli; do
  dotnet pack "$project" -c Release -o "$out" -nologo -v quiet
done
ls -1 "$out"/*.nupkg
