export * from './cognito_migrate_wasm.js';

/** Fetches and instantiates the keys and tools modules (each .wasm beside its own glue). */
export default function init(): Promise<void>;

/** Instantiates both modules from compiled modules or bytes already at hand. */
export function initSync(modules: {
  keys: BufferSource | WebAssembly.Module;
  tools: BufferSource | WebAssembly.Module;
}): void;
