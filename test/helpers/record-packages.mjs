// Loaded with `node --import` (NODE_OPTIONS): appends the name of every npm package the
// process imports from node_modules as an ES module (its first resolution from our code or
// another package) to the file RECORD_PACKAGES_TO names, one per line; the file exists from
// the start, empty if nothing is. Packages bundled into dist/cli are not seen: they load
// with the bundle. For tests of what a process loads.
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';

writeFileSync(process.env.RECORD_PACKAGES_TO, '');

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const seen = new Set();
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const name = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(resolved.url)?.[1];
  if (name && !seen.has(name)) {
    seen.add(name);
    appendFileSync(process.env.RECORD_PACKAGES_TO, name + '\\n');
  }
  return resolved;
}`)}`,
);
