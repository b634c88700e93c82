/** Public surface of the shared contract package. */
export * from './receipt-number.ts';
export * from './signed-texts.ts';
export * from './contract/errors.ts';
export * from './contract/catalog.ts';
export * from './contract/http.ts';
export * from './contract/applicant-socket.ts';
export * from './contract/phone.ts';
export * from './contract/records.ts';
export * from './contract/payment.ts';
export * from './jpki-digest-info.ts';
export * from './jpki/index.ts';
export * from './ipc/index.ts';
