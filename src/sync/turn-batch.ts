import type { SyncRoom } from './sync-room.js';

/**
 * The client updates that arrive in one event-loop turn, from every room, stored in one
 * transaction at the end of the turn (`setImmediate`, straight after the sockets' reads),
 * then relayed: one commit for many keystrokes under load instead of one each, and still
 * nothing relayed before it is durable. A room whose own insert fails is failed alone (the
 * service closes it); a failed commit fails every room of the turn, none of it relayed.
 */
export class TurnBatch {
  private readonly due = new Set<SyncRoom>();
  private scheduled = false;

  constructor(private readonly inTransaction: (work: () => void) => void) {}

  add(room: SyncRoom): void {
    this.due.add(room);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const rooms = [...this.due];
    this.due.clear();
    try {
      this.inTransaction(() => {
        for (const room of rooms) room.store();
      });
    } catch (error) {
      for (const room of rooms) room.fail(error);
      return;
    }
    for (const room of rooms) room.relay();
  };
}
