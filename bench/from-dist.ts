/**
 * A module of the built server (dist/, from `npm run build`), typed by its source: the
 * benchmarks measure what `npm start` runs, not the sources through tsx. A variable specifier
 * keeps tsc from resolving dist/ (no .d.ts there); the types come from src/.
 */
export const fromDist = <T>(path: string): Promise<T> => import(new URL(`../dist/${path}`, import.meta.url).href) as Promise<T>;
