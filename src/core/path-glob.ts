import picomatch from 'picomatch';

/**
 * How every workspace path glob matches (file_glob, file_search's `glob`, policy `paths`,
 * sandbox masks): against `/`-separated relative paths, dot files included; a glob without
 * `/` matches base names at any depth.
 */
export function pathGlob(glob: string): (path: string) => boolean {
  return picomatch(glob, { dot: true, basename: !glob.includes('/') });
}

/**
 * The directory below which a glob can match (`src/**\/*.ts` → `src`): a walk need go no
 * further. '' when it can match anywhere (a base-name glob, or one starting with a pattern).
 */
export function pathGlobBase(glob: string): string {
  return glob.includes('/') ? picomatch.scan(glob).base : '';
}
