// The preload's API as the renderer sees it: derived from the preload itself, never restated.
export {};

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode, where the web bridge takes its place. */
    kioskBridge?: typeof import('../electron/preload.ts').bridge;
  }
}
