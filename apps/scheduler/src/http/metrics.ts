/**
 * HTTP metrics on the registry the app factory is given: request count and duration by route pattern (never
 * the raw path, so ids cannot blow up the label set; `unmatched` for 404s), method and status. Metrics that
 * exist on the registry already (a second app on the same registry) are reused.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  observe(
    labels: { readonly route: string; readonly method: string; readonly status: number },
    seconds: number,
  ): void;
  auditWriteFailed(): void;
}

const LABELS = ['route', 'method', 'status'] as const;

export function createHttpMetrics(registry: Registry): HttpMetrics {
  const requests =
    (registry.getSingleMetric('kisjobs_http_requests_total') as
      Counter<(typeof LABELS)[number]> | undefined) ??
    new Counter({
      name: 'kisjobs_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: LABELS,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('kisjobs_http_request_duration_seconds') as
      Histogram<(typeof LABELS)[number]> | undefined) ??
    new Histogram({
      name: 'kisjobs_http_request_duration_seconds',
      help: 'HTTP request duration until the answer is sent, by route pattern, method and status',
      labelNames: LABELS,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  const auditFailures =
    (registry.getSingleMetric('kisjobs_audit_write_failures_total') as Counter | undefined) ??
    new Counter({
      name: 'kisjobs_audit_write_failures_total',
      help: 'Audit events that could not be written (the request itself was answered)',
      registers: [registry],
    });
  return {
    observe(labels, seconds) {
      const values = { route: labels.route, method: labels.method, status: String(labels.status) };
      requests.inc(values);
      duration.observe(values, seconds);
    },
    auditWriteFailed() {
      auditFailures.inc();
    },
  };
}
