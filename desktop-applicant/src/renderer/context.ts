// What every screen gets from the app: the API, the shared state, the language, navigation and
// the one way errors are explained.
import type { applicantChannels, applicantEvents, Application, CardStatus, CatalogResponse, RendererApi, SocketState, StoredReceipt, SubjectsResponse } from '@cert/common';
import type { Messages, Text } from './dom.ts';
import type { I18n } from './i18n.ts';
import type { Order } from './order.ts';

/** The typed API over the Electron preload or the web-mode bridge. */
export type ApplicantRendererApi = RendererApi<typeof applicantChannels, typeof applicantEvents>;

/** The screens, in the order a resident meets them. */
export type ScreenName = 'connect' | 'login' | 'apply' | 'confirm' | 'receipt' | 'receipts' | 'phones';

/** A message to show on the screen the app goes to. */
export interface Notice {
  error?: Text;
  info?: Text;
}

/** The signed-in resident. */
export interface SessionView {
  displayName: string;
  expiresAt: string;
}

/** What the app knows; screens read it and the app keeps it current from events. */
export interface AppState {
  serverUrl: string | null;
  catalog: CatalogResponse | null;
  session: SessionView | null;
  /** Whom the signed-in resident may put on a certificate (loaded after each sign-in). */
  subjects: SubjectsResponse | null;
  card: CardStatus;
  connection: SocketState;
  receipts: StoredReceipt[];
  /** The application being put together; kept across a re-login so nothing typed is lost. */
  draft: Order | null;
  /** The receipt the receipt screen shows. */
  shown: Application | null;
  /** Applications whose last print was refused, with the refusal code (this run only: the server keeps no such mark). */
  refusals: Map<string, string | undefined>;
}

/** One screen: its root element, heading (focused on arrival) and message line; refreshed on state changes. */
export interface Screen {
  el: HTMLElement;
  heading: HTMLElement;
  box: Messages;
  /** Called after the state changed (card, receipts, catalog, session…). */
  refresh?(): void;
  dispose?(): void;
}

/** What the app offers its screens. */
export interface AppContext {
  readonly api: ApplicantRendererApi;
  readonly state: AppState;
  readonly i18n: I18n;
  /** A message line that follows the language. */
  messages(): Messages;
  /** Shows a screen, with an optional message, and moves the focus to its heading. */
  go(screen: ScreenName, notice?: Notice): void;
  /**
   * Explains a failed call in `box`; an unreachable server also starts the background retry
   * (unless `offlineRetry` is false), an expired session leads to the PIN screen.
   */
  fail(err: unknown, box: Messages, options?: { offlineRetry?: boolean }): void;
  /** The name of a certificate type: the catalog's, else the app's own (offline, or a type no longer offered). */
  certificateName(type: string): string;
  /** A server was chosen and answered with its catalog. */
  connected(serverUrl: string | null, catalog: CatalogResponse): void;
  /** The resident confirmed their identity with the card. */
  signedIn(session: SessionView): void;
}

/** Builds a screen for the app. */
export type ScreenFactory = (app: AppContext) => Screen;
