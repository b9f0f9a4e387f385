import { CloseCodes } from './sync-room.js';

/** A refusal of a room, with the close code the face sends. */
export class RoomRefusal extends Error {
  constructor(
    readonly closeCode: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Every refusal that could tell a caller something about what lies outside its reach reads like this. */
export const noSuchRoom = () => new RoomRefusal(CloseCodes.notFound, 'no such room');
