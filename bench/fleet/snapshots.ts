// The sidecar's own view of its endpoints (GET /health/endpoints), sampled as the health run
// goes, so that the report can say why traffic went where it did.

export interface EndpointView {
  endpoint: string;
  p95Ms: number;
  count: number;
  errorRate5xx: number;
  headroom: number;
  score: number;
}

export interface Snapshot {
  tick: number;
  endpoints: EndpointView[];
}

export class HealthSampler {
  readonly snapshots: Snapshot[] = [];
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly everyTicks: number,
  ) {}

  /** Call on each issued tick; samples at every multiple of `everyTicks`. */
  onIssue(tick: number): void {
    if (tick % this.everyTicks !== 0) return;
    this.pending.push(
      fetch(this.url, { signal: AbortSignal.timeout(2000) })
        .then((res) => res.json() as Promise<{ endpoints: EndpointView[] }>)
        .then((body) => {
          this.snapshots.push({ tick, endpoints: body.endpoints });
        })
        .catch(() => undefined),
    );
  }

  async settle(): Promise<void> {
    await Promise.all(this.pending);
    this.snapshots.sort((a, b) => a.tick - b.tick);
  }
}
