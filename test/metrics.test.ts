import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeLabelValue, formatNumber, Histogram, renderMetrics } from '../src/metrics.js';
import { attemptClass, RelayMetrics } from '../src/relay-metrics.js';

test('a registry renders as Prometheus text 0.0.4, byte for byte', () => {
  const latency = new Histogram([0.01, 0.1, 1]);
  for (const seconds of [0.005, 0.01, 0.5, 7]) latency.observe(seconds);

  const text = renderMetrics([
    { name: 'demo_requests_total', help: 'Requests.', type: 'counter', samples: [
      { labels: { class: '2xx' }, value: 3 },
      { labels: { class: '5xx' }, value: 0 },
    ] },
    { name: 'demo_queue', help: 'Queue length;\nper "queue" \\ name.', type: 'gauge', samples: [
      { labels: { queue: 'a"b\\c\nd' }, value: 1.5 },
    ] },
    { name: 'demo_latency_seconds', help: 'Latency.', type: 'histogram', histogram: latency },
  ]);

  assert.equal(
    text,
    [
      '# HELP demo_requests_total Requests.',
      '# TYPE demo_requests_total counter',
      'demo_requests_total{class="2xx"} 3',
      'demo_requests_total{class="5xx"} 0',
      '# HELP demo_queue Queue length;\\nper "queue" \\\\ name.',
      '# TYPE demo_queue gauge',
      'demo_queue{queue="a\\"b\\\\c\\nd"} 1.5',
      '# HELP demo_latency_seconds Latency.',
      '# TYPE demo_latency_seconds histogram',
      'demo_latency_seconds_bucket{le="0.01"} 2',
      'demo_latency_seconds_bucket{le="0.1"} 2',
      'demo_latency_seconds_bucket{le="1"} 3',
      'demo_latency_seconds_bucket{le="+Inf"} 4',
      'demo_latency_seconds_sum 7.515',
      'demo_latency_seconds_count 4',
      '',
    ].join('\n'),
  );
});

test('label values escape backslash, double quote and line feed, and nothing else', () => {
  assert.equal(escapeLabelValue('plain/path-1'), 'plain/path-1');
  assert.equal(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
});

test('numbers are written as Go parses them, infinities and NaN included', () => {
  assert.deepEqual(
    [0, 42, 0.00025, 1e-7, Infinity, -Infinity, NaN].map(formatNumber),
    ['0', '42', '0.00025', '1e-7', '+Inf', '-Inf', 'NaN'],
  );
});

test('a value on a bucket bound counts in that bucket, as le means less than or equal', () => {
  const histogram = new Histogram([1, 2]);
  for (const value of [1, 2, 2.5]) histogram.observe(value);
  assert.deepEqual({ counts: histogram.counts, sum: histogram.sum, count: histogram.count }, {
    counts: [1, 1, 1],
    sum: 5.5,
    count: 3,
  });
});

test('attempts are classed by status; no answer, or a status HTTP forbids, is an error', () => {
  const classes = [200, 299, 302, 404, 410, 429, 500, 503, 599, null, 199, 600].map(attemptClass);
  assert.deepEqual(classes, [
    '2xx', '2xx', '3xx', '4xx', '4xx', '4xx', '5xx', '5xx', '5xx', 'error', 'error', 'error',
  ]);
});

test('an ingested event counts once, with its deliveries to inactive targets as skipped', () => {
  const metrics = new RelayMetrics(0);
  metrics.noteIngested([{ outcome: 'pending' }, { outcome: 'skipped' }, { outcome: 'skipped' }]);
  metrics.noteIngested([]);
  assert.deepEqual({ events: metrics.eventsIngested, deliveries: metrics.deliveries }, {
    events: 2,
    deliveries: { success: 0, failed: 0, skipped: 2 },
  });
});
