// The phone approval web app (issue 9): pairs from the PC's QR code (device key + passkey), then
// uses the applicant socket as PROTOCOL.md describes, with its own device key: it shows the open
// receipts with a large number and a QR code for the kiosk's scanner, and answers print
// confirmations — Approve only with the passkey's user verification, Decline without.
import {
  APPLICANT_SOCKET_PATH,
  catalogResponseSchema,
  confirmationSignedText,
  deviceSignedText,
  errorBodySchema,
  formatReceiptNumber,
  passkeyApprovalChallenge,
  phoneKeyCode,
  phonePairingSignedText,
  registrationOptionsResponseSchema,
  registrationResponseSchema,
  serverSocketMessageSchema,
  type Assertion,
  type DeviceSocketMessage,
  type IssuanceStatus,
  type PhoneStateMessage,
  type PrintConfirmationRequest,
} from '@cert/common';
import { h } from '@cert/common/dom';
import { PHONE_STRINGS, type Lang, type PhoneStrings } from '@cert/common/i18n';
import { browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import QRCode from 'qrcode';
import { clearIdentity, fromBase64, loadIdentity, newDeviceKey, saveIdentity, signText, toBase64Url, type PhoneIdentity } from './phone-key.ts';

type View = 'nolink' | 'pair' | 'waiting' | 'home' | 'receipt' | 'prompt' | 'outcome' | 'removed';
type PushNote = 'on' | 'ask' | 'unavailable' | 'failed';
type Text = (t: PhoneStrings) => string;

const LANG_KEY = 'phone-lang';
const main = document.getElementById('main')!;
const connectionLine = document.getElementById('connection')!;
const langButton = document.getElementById('lang-switch') as HTMLButtonElement;

const state = {
  lang: (localStorage.getItem(LANG_KEY) ?? (navigator.language.startsWith('ja') ? 'ja' : 'en')) as Lang,
  view: 'nolink' as View,
  identity: null as PhoneIdentity | null,
  code: '',
  phone: null as PhoneStateMessage | null,
  receiptId: null as string | null,
  prompt: null as PrintConfirmationRequest | null,
  answered: new Set<string>(),
  outcome: null as { requestId: string; status: IssuanceStatus; here: boolean } | null,
  names: new Map<string, { ja: string; en: string }>(),
  online: false,
  push: 'unavailable' as PushNote,
  error: null as Text | null,
  busy: false,
};

const t = (): PhoneStrings => PHONE_STRINGS[state.lang];

// ——— rendering ———

let shownView: View | null = null;
let countdown: ReturnType<typeof setInterval> | undefined;

function render(): void {
  const s = t();
  document.documentElement.lang = state.lang;
  document.title = s.title;
  document.getElementById('app-title')!.textContent = s.title;
  langButton.textContent = s.switchLanguage;
  langButton.setAttribute('aria-label', s.switchLanguageLabel);
  langButton.lang = state.lang === 'ja' ? 'en' : 'ja';
  const paired = state.view === 'home' || state.view === 'receipt' || state.view === 'prompt' || state.view === 'outcome';
  connectionLine.hidden = !paired;
  connectionLine.textContent = state.online ? s.connection.online : s.connection.offline;
  connectionLine.className = state.online ? 'connection' : 'connection offline';
  clearInterval(countdown);
  const screen = SCREENS[state.view](s);
  main.replaceChildren(screen);
  if (shownView !== state.view) {
    shownView = state.view;
    // A new screen: its heading takes the focus, so that screen readers announce it.
    screen.querySelector<HTMLElement>('h2')?.focus();
  }
}

function errorLine(): HTMLElement {
  return h('p', { class: 'message error', role: 'alert' }, state.error ? state.error(t()) : '');
}

function heading(text: string): HTMLElement {
  return h('h2', { tabindex: -1 }, text);
}

function typeName(type: string): string {
  return state.names.get(type)?.[state.lang] ?? type;
}

function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(state.lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' });
}

function yen(n: number): string {
  return state.lang === 'ja' ? `${n.toLocaleString('ja-JP')}円` : `¥${n.toLocaleString('en-GB')}`;
}

function go(view: View): void {
  state.view = view;
  state.error = null;
  render();
}

const SCREENS: Record<View, (s: PhoneStrings) => HTMLElement> = {
  nolink: (s) => h('section', {}, heading(s.pair.title), h('p', {}, s.pair.noLink)),
  removed: (s) => h('section', {}, heading(s.removed.title), h('p', {}, s.removed.body)),
  pair: (s) => {
    const input = h('input', { type: 'text', id: 'phone-label', autocomplete: 'off', maxlength: 40, value: defaultLabel(), 'aria-describedby': 'label-hint' });
    const submit = h('button', { type: 'submit', class: 'big primary', id: 'pair-submit' }, state.busy ? s.pair.working : s.pair.submit);
    submit.disabled = state.busy;
    const form = h(
      'form',
      {},
      h('label', { for: 'phone-label' }, s.pair.labelField),
      input,
      h('p', { class: 'hint', id: 'label-hint' }, s.pair.labelHint),
      errorLine(),
      submit,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void pair(input.value.trim() || defaultLabel());
    });
    return h('section', {}, heading(s.pair.title), h('p', {}, s.pair.intro), form);
  },
  waiting: (s) =>
    h(
      'section',
      {},
      heading(s.waiting.title),
      h('p', { id: 'code-label' }, s.waiting.codeLabel),
      h('p', { class: 'code', id: 'pair-code', 'aria-labelledby': 'code-label' }, state.code),
      h('p', {}, s.waiting.intro),
    ),
  home: (s) => {
    const receipts = state.phone?.receipts ?? [];
    const list = receipts.length
      ? h(
          'ul',
          { class: 'receipts', 'aria-label': s.home.title },
          ...receipts.map((r) =>
            h(
              'li',
              {},
              h('p', { class: 'type' }, typeName(r.certificateType)),
              h('p', { class: 'number' }, formatReceiptNumber(r.receiptNumber), ' ', h('span', { class: 'badge' }, s.statuses[r.status] ?? r.status)),
              h('p', { class: 'hint' }, s.home.expires(dateTime(r.expiresAt))),
              h(
                'button',
                {
                  type: 'button',
                  class: 'big',
                  'data-receipt': r.receiptNumber,
                  'aria-label': `${s.home.open}: ${formatReceiptNumber(r.receiptNumber)}`,
                  onclick: () => {
                    state.receiptId = r.applicationId;
                    go('receipt');
                  },
                },
                s.home.open,
              ),
            ),
          ),
        )
      : h('p', {}, s.home.empty);
    const pushLine =
      state.push === 'on'
        ? h('p', { class: 'hint', id: 'push-state' }, s.home.pushOn)
        : state.push === 'ask'
          ? h('button', { type: 'button', class: 'big', id: 'push-enable', onclick: () => void setupPush(true) }, s.home.pushAsk)
          : h('p', { class: 'note', id: 'push-state' }, state.push === 'failed' ? s.home.pushFailed : s.home.pushUnavailable);
    return h('section', {}, heading(s.home.title), errorLine(), list, pushLine, h('p', { class: 'hint' }, s.home.pairedAs(state.phone?.label ?? '')));
  },
  receipt: (s) => {
    const r = state.phone?.receipts.find((x) => x.applicationId === state.receiptId);
    if (!r) return SCREENS.home(s);
    const grouped = formatReceiptNumber(r.receiptNumber);
    const qr = h('img', { class: 'qr', id: 'receipt-qr', alt: s.receipt.qrAlt(grouped), width: 320, height: 320 });
    // The kiosk's scanner reads exactly the 12 digits (the same code the PC app shows).
    QRCode.toDataURL(r.receiptNumber, { errorCorrectionLevel: 'M', margin: 4, width: 320 }).then(
      (url) => (qr.src = url),
      () => undefined,
    );
    return h(
      'section',
      {},
      heading(s.receipt.title),
      h('p', { class: 'type' }, typeName(r.certificateType)),
      h('p', { class: 'receipt-number', id: 'receipt-number' }, grouped),
      qr,
      h('p', {}, s.receipt.howTo),
      h('p', { class: 'hint' }, s.home.expires(dateTime(r.expiresAt))),
      h('button', { type: 'button', class: 'big', onclick: () => go('home') }, s.receipt.back),
    );
  },
  prompt: (s) => {
    const p = state.prompt;
    if (!p) return SCREENS.home(s);
    const left = h('p', { class: 'countdown', id: 'countdown', 'aria-live': 'off' });
    const tick = () => {
      const seconds = Math.max(0, Math.round((Date.parse(p.expiresAt) - Date.now()) / 1000));
      left.textContent = s.prompt.remaining(seconds);
    };
    tick();
    countdown = setInterval(tick, 1000);
    const approve = h('button', { type: 'button', class: 'big approve', id: 'approve', onclick: () => void answer(p, true) }, state.busy ? s.prompt.approving : s.prompt.approve);
    const decline = h('button', { type: 'button', class: 'big decline', id: 'decline', onclick: () => void answer(p, false) }, s.prompt.decline);
    approve.disabled = decline.disabled = state.busy;
    const fact = (label: string, value: string) => [h('dt', {}, label), h('dd', {}, value)];
    return h(
      'section',
      { role: 'alertdialog', 'aria-labelledby': 'prompt-title', 'aria-describedby': 'prompt-intro', id: 'prompt' },
      h('h2', { tabindex: -1, id: 'prompt-title' }, s.prompt.title),
      h('p', { id: 'prompt-intro' }, s.prompt.intro),
      h(
        'dl',
        { class: 'facts' },
        ...fact(s.prompt.store, p.kiosk.name),
        ...fact(s.prompt.location, p.kiosk.location),
        ...fact(s.prompt.certificate, typeName(p.certificateType)),
        ...fact(s.prompt.copies, s.prompt.copiesValue(p.copies)),
        ...fact(s.prompt.fee, yen(p.fee)),
        ...fact(s.prompt.receipt, formatReceiptNumber(p.receiptNumber)),
      ),
      left,
      errorLine(),
      approve,
      decline,
      h('p', { class: 'hint' }, s.prompt.notYou),
    );
  },
  outcome: (s) => {
    const o = state.outcome;
    const text = o ? s.outcome.statuses[o.status] : '';
    // Japanese sentences join without a space.
    const status = o && !o.here && o.status !== 'confirmation_pending' ? [s.outcome.statuses.answeredElsewhere, text].join(state.lang === 'ja' ? '' : ' ') : text;
    return h(
      'section',
      {},
      heading(s.outcome.title),
      h('p', { id: 'outcome', role: 'status' }, status),
      h('button', { type: 'button', class: 'big', onclick: () => go('home') }, s.outcome.back),
    );
  },
};

function defaultLabel(): string {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  if (/Android/.test(ua)) return 'Android';
  return state.lang === 'ja' ? 'スマートフォン' : 'Smartphone';
}

// ——— pairing ———

class RequestFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

async function post(path: string, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new RequestFailed('network');
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new RequestFailed(errorBodySchema.safeParse(json).data?.error.code ?? `http_${res.status}`);
  return json;
}

function explain(e: unknown): Text {
  const code = e instanceof RequestFailed ? e.code : e instanceof Error && e.name === 'NotAllowedError' ? 'passkey' : 'unexpected';
  if (code === 'pairing_invalid' || code === 'rate_limited' || code === 'network' || code === 'passkey') return (s) => s.errors[code];
  return (s) => s.errors.generic(code);
}

async function pair(label: string): Promise<void> {
  const secret = new URLSearchParams(location.hash.slice(1)).get('pair');
  if (!secret) return go('nolink');
  if (!browserSupportsWebAuthn()) {
    state.error = (s) => s.errors.unsupported;
    return render();
  }
  state.busy = true;
  state.error = null;
  render();
  try {
    const key = await newDeviceKey();
    const options = registrationOptionsResponseSchema.parse(await post('/api/v1/phone/registration/options', { secret, devicePublicKey: key.publicKey, label }));
    const credential = await startRegistration({ optionsJSON: options.options as Parameters<typeof startRegistration>[0]['optionsJSON'] });
    const signature = await signText(key.privateKey, phonePairingSignedText(options.pairingId, options.options.challenge));
    const registered = registrationResponseSchema.parse(await post('/api/v1/phone/registration', { pairingId: options.pairingId, secret, credential, signature }));
    state.identity = { ...key, phoneId: registered.phoneId, credentialId: registered.credentialId, rpId: registered.rpId };
    await saveIdentity(state.identity);
    // The secret is spent: it leaves the address bar (and the history entry).
    history.replaceState(null, '', location.pathname);
    state.code = await phoneKeyCode(fromBase64(key.publicKey));
    state.busy = false;
    go('waiting');
    connect();
  } catch (e) {
    state.busy = false;
    state.error = explain(e);
    render();
  }
}

// ——— the applicant socket ———

let socket: WebSocket | null = null;
let retryMs = 1000;
let stopped = false;

function send(msg: DeviceSocketMessage): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function connect(): void {
  if (!state.identity || stopped) return;
  const identity = state.identity;
  const url = new URL(APPLICANT_SOCKET_PATH, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url.href);
  socket = ws;
  ws.onmessage = (ev) => {
    let data: unknown;
    try {
      data = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    const parsed = serverSocketMessageSchema.safeParse(data);
    if (parsed.success) void onMessage(identity, parsed.data);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    state.online = false;
    render();
    if (!stopped) setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  };
}

async function onMessage(identity: PhoneIdentity, msg: ReturnType<typeof serverSocketMessageSchema.parse>): Promise<void> {
  switch (msg.type) {
    case 'hello':
      send({ type: 'authenticate', devicePublicKey: identity.publicKey, signature: await signText(identity.privateKey, deviceSignedText(msg.nonce)) });
      return;
    case 'authenticated':
      state.online = true;
      retryMs = 1000;
      return render();
    case 'phone-state': {
      state.phone = msg;
      if (msg.status === 'awaiting_confirmation') {
        state.code ||= await phoneKeyCode(fromBase64(identity.publicKey));
        if (state.view !== 'waiting') go('waiting');
        return;
      }
      if (state.view === 'waiting' || state.view === 'pair' || state.view === 'nolink') {
        state.view = 'home';
        void setupPush(false);
      }
      return render();
    }
    case 'print-confirmation-request':
      state.prompt = msg;
      state.outcome = null;
      return go('prompt');
    case 'print-confirmation-closed': {
      if (state.prompt?.requestId !== msg.requestId && state.outcome?.requestId !== msg.requestId) return;
      state.outcome = { requestId: msg.requestId, status: msg.status, here: state.answered.has(msg.requestId) };
      state.prompt = null;
      state.busy = false;
      return go('outcome');
    }
    case 'error':
      if (msg.code === 'device_unknown' || msg.code === 'device_removed') {
        stopped = true;
        await clearIdentity();
        state.identity = null;
        return go('removed');
      }
      if (msg.requestId && state.prompt?.requestId === msg.requestId) {
        state.answered.delete(msg.requestId);
        state.busy = false;
        state.error = (s) => s.prompt.verifyFailed;
        render();
      }
      return;
    case 'application-status':
      // The phone-state that follows carries the receipts as they are now.
      return;
  }
}

async function answer(p: PrintConfirmationRequest, approved: boolean): Promise<void> {
  const identity = state.identity;
  if (!identity || state.busy) return;
  state.busy = true;
  state.error = null;
  render();
  try {
    let assertion: Assertion | undefined;
    if (approved) {
      assertion = (await startAuthentication({
        optionsJSON: {
          challenge: toBase64Url(passkeyApprovalChallenge(p.requestId)),
          rpId: identity.rpId,
          allowCredentials: [{ id: identity.credentialId, type: 'public-key' }],
          userVerification: 'required',
          timeout: Math.max(5000, Date.parse(p.expiresAt) - Date.now()),
        },
      })) as Assertion;
    }
    const signature = await signText(identity.privateKey, confirmationSignedText(p.requestId, approved));
    state.answered.add(p.requestId);
    send({ type: 'print-confirmation-response', requestId: p.requestId, approved, signature, ...(assertion ? { assertion } : {}) });
  } catch {
    state.busy = false;
    state.error = (s) => s.prompt.verifyFailed;
    render();
  }
}

// ——— push ———

async function setupPush(ask: boolean): Promise<void> {
  const vapid = state.phone?.vapidPublicKey;
  if (!vapid || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window) || Notification.permission === 'denied') {
    state.push = 'unavailable';
    return render();
  }
  if (Notification.permission === 'default' && !ask) {
    state.push = 'ask';
    return render();
  }
  try {
    if (ask && (await Notification.requestPermission()) !== 'granted') {
      state.push = 'unavailable';
      return render();
    }
    const registration = await navigator.serviceWorker.ready;
    const key = fromBase64(vapid.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(vapid.length / 4) * 4, '='));
    const sub = (await registration.pushManager.getSubscription()) ?? (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as Uint8Array<ArrayBuffer> }));
    const json = sub.toJSON();
    send({ type: 'push-subscription', subscription: { endpoint: json.endpoint!, keys: { p256dh: json.keys!.p256dh!, auth: json.keys!.auth! } } });
    state.push = 'on';
  } catch {
    state.push = 'failed';
  }
  render();
}

// ——— start ———

langButton.addEventListener('click', () => {
  state.lang = state.lang === 'ja' ? 'en' : 'ja';
  localStorage.setItem(LANG_KEY, state.lang);
  render();
});

// A pairing link opened where the app is already open changes only the fragment.
window.addEventListener('hashchange', () => {
  if (!state.identity && new URLSearchParams(location.hash.slice(1)).get('pair')) go('pair');
});

async function start(): Promise<void> {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => undefined);
  fetch('/api/v1/catalog')
    .then((r) => r.json())
    .then((json: unknown) => {
      for (const c of catalogResponseSchema.parse(json).certificateTypes) state.names.set(c.type, c.name);
      render();
    })
    .catch(() => undefined);
  state.identity = await loadIdentity().catch(() => null);
  if (new URLSearchParams(location.hash.slice(1)).get('pair') && !state.identity) {
    go('pair');
  } else if (state.identity) {
    go('home');
    connect();
  } else {
    go('nolink');
  }
}

void start();
