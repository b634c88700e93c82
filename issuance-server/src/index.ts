/** Programmatic entry points of the issuance server (tests and the demo use these). */
export { createRenderPool, startServer, type RunningServer, type StartOptions } from './server.ts';
export { defaultServerConfig, type ServerConfig } from './config.ts';
export { createAdminContext, createContext, openStore } from './context.ts';
export { createLogger } from './logger.ts';
export { DEFAULT_FONT_PATH } from './documents/font-source.ts';
export { MANIFEST_ASSET, SERVER_ASSETS, type AssetManifest } from './runtime/single-executable.ts';
export { readSealImages } from './cli/seal-images.ts';
export { SettlementService, settlementCsv, settlementTotals, type SettlementReport, type SettlementRow } from './services/settlement-service.ts';
export { bundlePhoneApp, serializePhoneApp } from './runtime/phone-app-bundle.ts';
