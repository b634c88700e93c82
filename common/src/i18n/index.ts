/** UI strings of the two apps, for their renderers and tests (the server does not need them). */
export * from './applicant-strings.ts';
export * from './kiosk-strings.ts';
export * from './phone-strings.ts';
