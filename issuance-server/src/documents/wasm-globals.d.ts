// The WebAssembly globals that hb-subset.ts uses. Node has them, but their types live in lib.dom,
// which the Node-side tsconfig leaves out so that no browser global can be named by mistake.
export {};

declare global {
  namespace WebAssembly {
    // An opaque handle: nothing of it is read, only passed back to instantiate().
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Module {}
    interface Memory {
      readonly buffer: ArrayBuffer;
    }
    interface Instance {
      readonly exports: Record<string, unknown>;
    }
    function compile(bytes: Uint8Array): Promise<Module>;
    function instantiate(module: Module, imports?: Record<string, unknown>): Promise<Instance>;
  }
}
