/** The kiosk's test rig for other workspaces' tests: a real server with a seeded register, and record changes. */
export * from './issuance-rig.ts';
export * from './resident-records.ts';
