/** Load generation shared by the benchmark and the hostile tests: a synthetic register, resident agents, kiosk flows. */
export * from './kiosk-flow.ts';
export * from './limiter.ts';
export * from './load-server.ts';
export * from './resident-agent.ts';
export * from './stats.ts';
export * from './synthetic-register.ts';
