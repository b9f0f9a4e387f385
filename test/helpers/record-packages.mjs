// Loaded with `node --import` (NODE_OPTIONS): appends the name of every npm package the
// process imports as an ES module (its first resolution from our code or another package)
// to the file RECORD_PACKAGES_TO names, one per line. For tests of what a process loads.
import { register } from 'node:module';

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
