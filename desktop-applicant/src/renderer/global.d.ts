// Globals the renderer sees. The bridge's type comes from the preload that exposes it, never
// restated here.
interface Window {
  /** The Electron preload's IPC transport; absent in web mode. */
  applicantBridge?: typeof import('../electron/preload.ts').bridge;
}
