import type { ApiClient } from './api-client.js';
import type { DeliveryView, Outcome, ReplayAnswer, TargetDetail } from './api-types.js';
import { formatCount, formatPath } from './format.js';

/**
 * What each button of the chosen target's panel asks the relay, and the sentence that reports
 * the answer. Free of the DOM, so the requests and the wording are tested against a relay.
 */

export interface OperatorAction {
  /** What the page says while the request is under way, and before an error. */
  doing: string;
  run(client: ApiClient): Promise<string>;
}

export interface ReplayRequest {
  since: string;
  outcomes: Outcome[];
  /** What the operator chose, for the report, e.g. "failed deliveries of the last 24 hours". */
  described: string;
}

export function redeliverAction(delivery: DeliveryView): OperatorAction {
  return {
    doing: `Redelivering delivery ${delivery.id}`,
    async run(client) {
      await client.send('POST', `api/v1/webhooks/redeliver/${delivery.id}`);
      return `Delivery ${delivery.id} is queued again.`;
    },
  };
}

/** Pause (`active: false`) or resume; a target from the config file is refused with 409. */
export function setActiveAction(target: TargetDetail, active: boolean): OperatorAction {
  return {
    doing: `${active ? 'Resuming' : 'Pausing'} ${describe(target)}`,
    async run(client) {
      await client.send('PATCH', `api/v1/webhooks/${target.id}`, { active });
      return `${capitalised(describe(target))} is ${active ? 'resumed' : 'paused'}.`;
    },
  };
}

/** The relay answers a ping after its one attempt, so the report can say how it went. */
export function pingAction(target: TargetDetail): OperatorAction {
  return {
    doing: `Pinging ${describe(target)}`,
    async run(client) {
      const delivery = await client.send<DeliveryView>('POST', `api/v1/webhooks/${target.id}/ping`);
      // The error names the status when there was one ("HTTP 503: …"), or why there was none.
      const how = delivery.error_detail ?? `status ${delivery.status_code ?? 'unknown'}`;
      return `Ping to ${describe(target)}: ${delivery.outcome} (${how}).`;
    },
  };
}

export function replayAction(target: TargetDetail, request: ReplayRequest): OperatorAction {
  return {
    doing: `Replaying for ${describe(target)}`,
    async run(client) {
      const body = { since: request.since, outcomes: request.outcomes };
      const path = `api/v1/webhooks/${target.id}/replay`;
      const answer = await client.send<ReplayAnswer>('POST', path, body);
      const queued = answer.queued === 0 ? 'none' : formatCount(answer.queued);
      return `Replay of the ${request.described}: ${queued} queued.`;
    },
  };
}

function describe(target: TargetDetail): string {
  return `target #${target.id} (${formatPath(target.path)})`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
