import type { RelayStatus } from './api-types.js';
import { byId, setAttribute, setText } from './dom.js';
import { formatAge, formatBytes, formatCount, formatDuration } from './format.js';

/** The figures at the top of the page and the relay's health and version in the header. */
export class TotalsView {
  private readonly events = byId('total-events', HTMLElement);
  private readonly eventsNote = byId('total-events-note', HTMLElement);
  private readonly pending = byId('total-pending', HTMLElement);
  private readonly oldest = byId('total-oldest', HTMLElement);
  private readonly oldestNote = byId('total-oldest-note', HTMLElement);
  private readonly dataFile = byId('total-data-file', HTMLElement);
  private readonly dataFileNote = byId('total-data-file-note', HTMLElement);
  private readonly health = byId('health', HTMLElement);
  private readonly version = byId('version', HTMLElement);

  render(status: RelayStatus, now: number): void {
    setText(this.events, formatCount(status.events_ingested));
    setText(this.eventsNote, `since the relay started ${formatAge(status.started_at, now)}`);
    setText(this.pending, formatCount(status.pending_deliveries));

    const oldest = status.oldest_pending_at;
    setText(this.oldest, oldest === null ? 'none' : formatDuration(now - Date.parse(oldest)));
    setText(this.oldestNote, oldest === null ? 'nothing waits' : 'since its event was accepted');
    setText(this.dataFile, formatBytes(status.data_file_bytes));
    setText(this.dataFileNote, status.healthy ? 'writable' : 'not writable: events get 503');

    this.health.hidden = false;
    setText(this.health, status.healthy ? 'healthy' : 'failing');
    setAttribute(this.health, 'class', `badge ${status.healthy ? 'active' : 'disabled'}`);
    setText(this.version, `version ${status.version}`);
  }
}
