// Fails when a WebAssembly module imports from a module outside an allowed list. A core that
// reached for the host (time, randomness, files) would show up here as an `env` import.
// usage: node wasm-imports.mjs FILE.wasm ALLOWED_MODULE...
import { readFile } from 'node:fs/promises';

const [file, ...allowed] = process.argv.slice(2);
if (!file || allowed.length === 0) {
  console.error('usage: wasm-imports.mjs FILE.wasm ALLOWED_MODULE...');
  process.exit(2);
}
const module = new WebAssembly.Module(await readFile(file));
const imports = WebAssembly.Module.imports(module);
const modules = [...new Set(imports.map((entry) => entry.module))];
const stray = imports.filter((entry) => !allowed.includes(entry.module));
if (stray.length > 0) {
  console.error(`${file}: imports outside ${allowed.join(', ')}:`);
  for (const entry of stray) console.error(`  ${entry.module}.${entry.name} (${entry.kind})`);
  process.exit(1);
}
console.log(`${file}: ${imports.length} imports, all from ${modules.join(', ') || '(none)'}`);
