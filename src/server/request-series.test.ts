import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestSeries } from './request-series.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: Array<[string, string, string, number]> = [
  ['/cdn-cgi/imagedelivery/*', 'GET', '2xx', 0.0004],
  ['/cdn-cgi/imagedelivery/*', 'GET', '2xx', 0.001],
  ['/cdn-cgi/imagedelivery/*', 'GET', '2xx', 0.05],
  ['/cdn-cgi/imagedelivery/*', 'HEAD', '3xx', 2],
  ['/client/v4/accounts/:account_id/images/v1', 'POST', '4xx', 0.2],
  ['(no route)', 'GET', 'aborted', 0.003],
];

/** The same observations through prom-client's own Counter and Histogram. */
function reference(): Registry {
  const registry = new Registry();
  const labelNames = ['route', 'method', 'status'] as const;
  const c = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route template, method and status class',
    labelNames,
    registers: [registry],
  });
  const h = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to the response ending, by route template, method and status class',
    labelNames,
    buckets: BOUNDS,
    registers: [registry],
  });
  for (const [route, method, status, s] of OBSERVED) {
    c.inc({ route, method, status });
    h.observe({ route, method, status }, s);
  }
  return registry;
}

function ours(): Registry {
  const registry = new Registry();
  const series = new RequestSeries(BOUNDS, registry);
  for (const [route, method, status, s] of OBSERVED) series.record(route, method, status, s);
  return registry;
}

describe('RequestSeries', () => {
  it("exposes exactly what prom-client's Counter and Histogram would for the same requests", async () => {
    const sorted = (t: string) => t.split('\n').sort().join('\n');
    expect(sorted(await ours().metrics())).toBe(sorted(await reference().metrics()));
    expect(await ours().getMetricsAsJSON()).toEqual(await reference().getMetricsAsJSON());
  });

  it('adds up across workers in the AggregatorRegistry like prom-client metrics', async () => {
    const a = await ours().getMetricsAsJSON();
    const b = await reference().getMetricsAsJSON();
    const sum = await AggregatorRegistry.aggregate([a, b]).metrics();
    expect(sum).toMatch(
      /^http_requests_total\{route="\/cdn-cgi\/imagedelivery\/\*",method="GET",status="2xx"\} 6$/m,
    );
    expect(sum).toMatch(
      /^http_request_duration_seconds_bucket\{le="0.001",route="\/cdn-cgi\/imagedelivery\/\*",method="GET",status="2xx"\} 4$/m,
    );
  });

  it('resetMetrics empties it', async () => {
    const registry = ours();
    registry.resetMetrics();
    expect(await registry.metrics()).not.toMatch(/^http_requests_total\{/m);
  });
});
