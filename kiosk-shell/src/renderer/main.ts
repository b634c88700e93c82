// Renderer entry: the same UI in Electron (preload transport) and in web mode (web bridge).
import { kioskChannels, kioskEvents, rendererApi, type IpcTransport } from '@cert/common';
import { createWebTransport } from '@cert/common/browser';
import { KioskUi } from './kiosk-ui.ts';

const root = document.getElementById('app')!;
let transport: IpcTransport;
try {
  transport = window.kioskBridge ?? createWebTransport();
} catch (e) {
  // Web mode opened without the launch URL: there is no way to reach the host.
  root.textContent = (e as Error).message;
  throw e;
}
void new KioskUi(root, rendererApi(kioskChannels, kioskEvents, transport)).boot();
