// Failover between the nodes of one issuance service (README, "Two or more nodes"). A client
// configured with several URLs stays on the node that answered last; a node that stops answering
// (no connection, a broken exchange, a timeout, or 503) rests — 1 s after its first failure,
// doubling with each failure in a row up to 30 s — and the next node in the configured order
// takes over. When every node rests, the one whose rest ends first is tried. The state belongs to
// the endpoint object, so every client sharing an endpoint (a kiosk's calls, an applicant's
// calls and its socket) moves together.

/** Where a service's nodes are: the first URL, then the others in failover order. */
export interface ServiceUrls {
  baseUrl: string;
  /** Further nodes of the same service, tried in this order after `baseUrl`. Client-side only: the wire is the same. */
  alternateUrls?: readonly string[];
}

/** How long a node rests after its first failure in a row; doubles per failure up to {@link MAX_REST_MS}. */
export const FIRST_REST_MS = 1000;
/** The longest rest of a node that keeps failing. */
export const MAX_REST_MS = 30_000;

/** Which node of a service to use, and which nodes are resting after a failure. */
export class ServerNodes {
  private current: string | null = null;
  /** Failures in a row and the end of the rest, by node URL (the URLs are read from the endpoint each time: it may change). */
  private readonly health = new Map<string, { failures: number; restUntil: number }>();

  constructor(
    private readonly endpoint: ServiceUrls,
    private readonly now: () => number = Date.now,
  ) {}

  /** The nodes in failover order. */
  get urls(): string[] {
    return [this.endpoint.baseUrl, ...(this.endpoint.alternateUrls ?? [])];
  }

  private restUntil(url: string): number {
    return this.health.get(url)?.restUntil ?? 0;
  }

  /** The node to use now: the current one unless it rests, else the next one in order that does not. */
  pick(): string {
    const urls = this.urls;
    const t = this.now();
    const from = Math.max(0, urls.indexOf(this.current ?? ''));
    for (let step = 0; step < urls.length; step++) {
      const url = urls[(from + step) % urls.length]!;
      if (this.restUntil(url) <= t) return url;
    }
    return urls.reduce((a, b) => (this.restUntil(b) < this.restUntil(a) ? b : a));
  }

  /** The node answered: it is the one to stay on. */
  answered(url: string): void {
    this.health.delete(url);
    this.current = url;
  }

  /** The node stopped answering: it rests, and the next node in order becomes the current one. */
  failed(url: string): void {
    const failures = (this.health.get(url)?.failures ?? 0) + 1;
    this.health.set(url, { failures, restUntil: this.now() + Math.min(MAX_REST_MS, FIRST_REST_MS * 2 ** (failures - 1)) });
    if ((this.current ?? this.urls[0]) === url) {
      const urls = this.urls;
      this.current = urls[(urls.indexOf(url) + 1) % urls.length] ?? null;
    }
  }
}

const byEndpoint = new WeakMap<ServiceUrls, ServerNodes>();

/** The failover state of an endpoint (made on first use, shared by everyone holding the same endpoint object). */
export function serverNodes(endpoint: ServiceUrls): ServerNodes {
  let nodes = byEndpoint.get(endpoint);
  if (!nodes) byEndpoint.set(endpoint, (nodes = new ServerNodes(endpoint)));
  return nodes;
}
