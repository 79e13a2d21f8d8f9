/**
 * The shapes of the relay's answers that the status page reads, as the README documents them.
 * Only the fields the page uses are listed.
 */

export type Outcome = 'success' | 'failed' | 'skipped' | 'pending';

/** `GET /api/v1/status` */
export interface RelayStatus {
  events_ingested: number;
  pending_deliveries: number;
  oldest_pending_at: string | null;
  data_file_bytes: number;
  started_at: string;
  version: string;
  healthy: boolean;
}

/** One entry of `GET /api/v1/webhooks/`. */
export interface TargetDetail {
  id: number;
  url: string;
  events: string[] | null;
  active: boolean;
  path: string;
  name: string | null;
  managed_by: 'api' | 'config';
  health: {
    consecutive_failures: number;
    last_success_at: string | null;
    failing_since: string | null;
    disabled_reason: string | null;
  };
}

/** One target of `GET /api/v1/activity`: a count per bucket for each outcome, oldest first. */
export type TargetActivity = { id: number } & Record<Outcome, number[]>;

/** `GET /api/v1/activity` */
export interface Activity {
  now: string;
  from: string;
  to: string;
  bucket_seconds: number;
  targets: TargetActivity[];
}

/** One entry of `GET /api/v1/webhooks/history/{id}`. */
export interface DeliveryView {
  id: number;
  webhook_id: number;
  event_type: string;
  status_code: number | null;
  attempts: number;
  outcome: Outcome;
  error_detail: string | null;
  time_created: string;
  delivered_at: string | null;
  next_attempt_at: string | null;
}

/** `POST /api/v1/webhooks/{id}/replay` */
export interface ReplayAnswer {
  queued: number;
}
