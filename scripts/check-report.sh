#!/usr/bin/env bash
# Checks that an evaluation report is self-contained and renders in headless Chromium (issue 5).
#   scripts/check-report.sh [runs/default/report/report.html]
# Installs Debian's chromium if it is missing (needs root and apt). Exits non-zero with one line per problem.
set -euo pipefail
report="${1:-runs/default/report/report.html}"
if [ ! -f "$report" ]; then
  echo "check-report: '$report' does not exist; run './segsharp train' (or 'segsharp evaluate') first." >&2
  exit 2
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "check-report: installing Debian's chromium package..."
  (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }) \
    || { echo "check-report: chromium is not installed and could not be installed (apt-get install chromium)." >&2; exit 2; }
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
url="file://$(realpath "$report")"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --allow-file-access-from-files --virtual-time-budget=5000)
chromium "${flags[@]}" --dump-dom "$url" > "$out/dom.html" 2>/dev/null
chromium "${flags[@]}" --window-size=1280,2400 --screenshot="$out/page.png" "$url" >/dev/null 2>&1

# Static checks on the file and the rendered DOM; pixel check on the screenshot (Python standard library only).
python3 - "$report" "$out/dom.html" "$out/page.png" <<'PY'
import base64, re, struct, sys, zlib
report, dom_path, shot = sys.argv[1], sys.argv[2], sys.argv[3]
html = open(report, encoding="utf-8").read()
dom = open(dom_path, encoding="utf-8").read()
problems = []

def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])

external = re.findall(r'(?:src|href)="(?!data:|#)([^"]+)"', html)
if external:
    problems.append(f"{report}: refers to {len(external)} external resource(s), e.g. '{external[0]}'; the report must inline everything")
images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
if not images:
    problems.append(f"{report}: holds no inlined PNG images")
for i, b64 in enumerate(images):
    size = png_size(base64.b64decode(b64))
    if size is None or size[0] == 0 or size[1] == 0:
        problems.append(f"{report}: inlined image {i + 1} is not a valid PNG")
for needle in ("<h1>", "Per class", "Confusion matrix", "predictions"):
    if needle not in dom:
        problems.append(f"{report}: Chromium's rendered DOM lacks '{needle}' (the page did not render fully)")

try:
    data = open(shot, "rb").read()
    size = png_size(data)
    # Decode the screenshot enough to see it is not blank: gather IDAT, inflate, count distinct byte values.
    pos, idat = 8, b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    distinct = len(set(raw[:2_000_000]))
    if size is None or distinct < 32:
        problems.append(f"{shot}: Chromium's screenshot looks blank ({distinct} distinct byte values)")
    else:
        print(f"check-report: rendered {size[0]}x{size[1]} screenshot, {distinct} distinct byte values")
except (OSError, zlib.error, struct.error) as e:
    problems.append(f"Chromium produced no readable screenshot ({e}); run chromium --headless by hand to see why")

for p in problems:
    print("check-report: " + p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-report: OK - {len(images)} inlined images, no external references, renders in Chromium")
PY
