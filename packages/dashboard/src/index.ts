// @loom/dashboard: the scheduler's dashboard server (pages, /api/v1 JSON, server-sent events, Prometheus
// /metrics, /health) over a DashboardSource, which the scheduler implements from counters it keeps anyway.
export {
  startDashboard,
  DEFAULT_DASHBOARD_PORT,
  type DashboardOptions,
  type DashboardHandle,
  type DashboardExtension,
} from './dashboard-server.js';
export { DashboardAuth, SESSION_COOKIE } from './dashboard-auth.js';
export { DashboardError, type DashboardErrorCode } from './dashboard-error.js';
export { SnapshotFeed, EVENT_FIELDS, type FeedOptions, type FeedUpdate, type PackedEvents } from './snapshot-feed.js';
export { PrometheusMetrics } from './prometheus-metrics.js';
export { SectionCache, type SectionCacheOptions, type SectionLog } from './section-cache.js';
export {
  isSectionContent,
  type IdsCell,
  type ProgressCell,
  type SectionAnswer,
  type SectionCell,
  type SectionCellFormat,
  type SectionColumn,
  type SectionContent,
  type SectionTable,
  type SectionTile,
  type SectionTone,
} from './section-content.js';
export type { JobsSectionOptions, ModelsSectionOptions, SectionFactory, SectionModule, SectionModules } from './section-module.js';
export {
  TASK_STATES,
  TASK_EVENT_KINDS,
  emptyStateCounts,
  type TaskStateName,
  type DashboardSource,
  type DashboardSnapshot,
  type SnapshotLimits,
  type ClusterTotals,
  type WorkerView,
  type PrefixView,
  type TaskEvent,
  type TaskEventKind,
  type TaskFailureView,
  type MemoryThresholds,
  type LogLevelName,
  type WorkerLogView,
  type WorkerLogsView,
} from './snapshot.js';
