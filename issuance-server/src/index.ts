/** Programmatic entry points of the issuance server (tests and the demo use these). */
export { startServer, type RunningServer } from './server.ts';
export { defaultServerConfig, type ServerConfig } from './config.ts';
export { createAdminContext, createContext } from './context.ts';
export { createLogger } from './logger.ts';
