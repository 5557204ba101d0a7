// Prometheus metrics for the daemon (`[pban] metrics = "127.0.0.1:9464"`).
//
//   const metrics = new DaemonMetrics({ clock, view: { jails: () => … } });
//   metrics.batch(source, lines, matched, position);    // per source batch
//   metrics.failure(jail, kind); metrics.banned(ban); metrics.lifted(ban, reason);
//   metrics.action(jail, action, 'ban', decidedAt, runner.ban(bans));
//   metrics.commit(() => store.commit(batch));
//   await metrics.serve(config.pban.metrics);           // null: not served
export { DaemonMetrics, lagBytes, targetKind, type MetricsView, type MetricsLogger, type DaemonMetricsOptions, type ActionOp } from './daemon-metrics.js';
export { parseListenAddress, type ListenAddress } from './listen-address.js';
export type { MetricsConfig } from './server.js';
