import { readFileSync } from 'node:fs';

/**
 * The ABI a native module was compiled for, from its registration symbol
 * (`node_register_module_v<ABI>`, in ELF and PE alike); undefined for Node-API modules, which
 * are ABI-stable, and for files without the symbol.
 */
export function nativeModuleAbi(file: string): number | undefined {
  const match = /node_register_module_v(\d+)/.exec(readFileSync(file).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}
