/**
 * The explicit end-of-page line of every paged answer: it says the answer was cut and
 * how to get the rest, so an agent never mistakes a page for the whole.
 */
export function moreMarker(nextCursor: string | undefined, shown: string): string {
  return nextCursor === undefined ? '' : `\n[${shown}; more: call again with cursor "${nextCursor}"]`;
}
