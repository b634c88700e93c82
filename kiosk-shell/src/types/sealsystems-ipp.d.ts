// @sealsystems/ipp ships no types, and @types/ipp describes the original `ipp` package with
// per-operation overloads that do not match what the parser really returns (keywords arrive as
// a string or an array). This declares only the surface ipp-printer.ts uses, loosely, so that
// the module validates the attribute values itself.
declare module '@sealsystems/ipp' {
  import type { Agent } from 'node:http';
  import type { Readable } from 'node:stream';

  /** Options of `new Printer(url, options)` (the fork adds `timeout` and `agent`). */
  export interface PrinterOptions {
    version?: '1.0' | '1.1' | '2.0' | '2.1' | '2.2';
    uri?: string;
    charset?: string;
    language?: string;
    /** Socket inactivity timeout in ms (default 60000). */
    timeout?: number;
    agent?: Agent;
  }

  /** A request: attribute groups by tag name, plus the document for Print-Job. */
  export interface IppRequest {
    'operation-attributes-tag'?: Record<string, unknown>;
    'job-attributes-tag'?: Record<string, unknown>;
    data?: Buffer | Readable;
  }

  /** A parsed response: `statusCode` is a keyword such as `successful-ok`. */
  export interface IppResponse {
    version: string;
    statusCode: string;
    id: number;
    'operation-attributes-tag'?: Record<string, unknown>;
    'printer-attributes-tag'?: Record<string, unknown>;
    'job-attributes-tag'?: Record<string, unknown> | Record<string, unknown>[];
    'unsupported-attributes-tag'?: Record<string, unknown>;
  }

  /** One IPP printer URI. */
  export class Printer {
    constructor(url: string, options?: PrinterOptions);
    execute(operation: string, message: IppRequest | null, callback: (error: Error | null, response?: IppResponse) => void): void;
  }

  const ipp: { Printer: typeof Printer };
  export default ipp;
}
