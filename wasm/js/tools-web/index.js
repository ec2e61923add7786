// `cognito-migrate/tools/web`: the tools module for pages without a bundler, with one init()
// for both modules. scripts/build-wasm.sh copies this file into pkg/tools/web/.
//
// The tools module computes the keys of non-ASCII text with the keys module (pkg/web/), which
// carries the Unicode tables; both must be instantiated before the first call.
import initKeys, { initSync as initKeysSync } from '../../web/cognito_migrate_wasm.js';
import initTools, { initSync as initToolsSync } from './cognito_migrate_wasm.js';

export * from './cognito_migrate_wasm.js';

/** Fetches and instantiates the keys and tools modules (each .wasm beside its own glue). */
export default async function init() {
  await Promise.all([initKeys(), initTools()]);
}

/** Instantiates both modules from compiled modules or bytes already at hand. */
export function initSync({ keys, tools }) {
  initKeysSync({ module: keys });
  initToolsSync({ module: tools });
}
