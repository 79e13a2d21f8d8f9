import type { AttemptRequest, AttemptResult } from '../../src/delivery-client.js';
import type { Sender } from '../../src/dispatcher.js';

export type Answer = (request: AttemptRequest) => AttemptResult;

export const answer = (statusCode: number, retryAfter?: string): AttemptResult => ({
  statusCode,
  error: statusCode >= 200 && statusCode <= 299 ? null : `HTTP ${statusCode}: `,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

/**
 * A sender that dials nothing: it records each attempt and answers as the test says, by default
 * 200. `answerWith` changes the answer for the attempts that follow.
 */
export function scriptedSender(initial: Answer = () => answer(200)): Sender & {
  sent: AttemptRequest[];
  answerWith(next: Answer): void;
  /** The parsed bodies of the attempts so far. */
  bodies(): Array<Record<string, unknown>>;
} {
  let current = initial;
  const sent: AttemptRequest[] = [];
  return {
    sent,
    answerWith(next) {
      current = next;
    },
    bodies() {
      return sent.map((request) => JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);
    },
    send: async (request) => {
      sent.push(request);
      return current(request);
    },
  };
}
