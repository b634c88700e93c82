/** The kiosk's test rig for other workspaces' tests: a real server with a seeded register, the catalogue and records of every certificate type, and record changes. */
export * from './issuance-rig.ts';
export * from './resident-records.ts';
export * from './municipal-records.ts';
