/**
 * The paths not inside another of them (`/data` covers `/data/ws/1`; the relative '' covers
 * everything): what is left to cover, walk or mount once each.
 */
export function outermostPaths(paths: readonly string[]): string[] {
  const kept: string[] = [];
  for (const path of [...new Set(paths)].sort()) {
    if (!kept.some((other) => other === '' || path.startsWith(other.endsWith('/') ? other : `${other}/`))) kept.push(path);
  }
  return kept;
}
