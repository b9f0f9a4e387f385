// Checks a packaged .vsix the way VS Code would load it, short of VS Code (which cannot be
// downloaded here): the compiled extension is there and the sources are not, no development
// dependency is shipped, every shipped package's dependencies resolve inside the package, and
// the modules that do not need `vscode` load. Usage: node scripts/check-package.mjs codebuddy.vsix
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const vsix = process.argv[2];
if (!vsix || !existsSync(vsix)) throw new Error(`usage: check-package.mjs <file.vsix> (got ${vsix})`);
const dir = mkdtempSync(join(tmpdir(), 'codebuddy-vsix-'));
const problems = [];
try {
  // A .vsix is a zip; Python's zipfile is on every machine that runs .ci/run.
  const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', vsix, dir], { encoding: 'utf8' });
  if (unzip.status !== 0) throw new Error(`could not unpack ${vsix}: ${unzip.stderr}`);
  const root = join(dir, 'extension');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const files = walk(root).map((file) => relative(root, file));

  if (!files.includes(manifest.main.replace(/^\.\//, ''))) problems.push(`main ${manifest.main} is not in the package`);
  for (const file of files.filter((file) => !file.startsWith('node_modules/'))) {
    if (/\.(ts|map)$/.test(file) && !file.endsWith('.d.ts')) problems.push(`a source or map is shipped: ${file}`);
  }
  for (const name of Object.keys(manifest.devDependencies ?? {})) {
    if (existsSync(join(root, 'node_modules', name))) problems.push(`a development dependency is shipped: ${name}`);
  }
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (!existsSync(join(root, 'node_modules', name, 'package.json'))) problems.push(`a dependency is missing: ${name}`);
  }
  // Every shipped package finds its own dependencies inside the package (nested or hoisted).
  for (const file of files.filter((file) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(file))) {
    const pkg = JSON.parse(readFileSync(join(root, file), 'utf8'));
    const from = createRequire(join(root, file));
    for (const name of Object.keys(pkg.dependencies ?? {})) {
      if (!canResolve(from, `${name}/package.json`) && !canResolve(from, name)) problems.push(`${pkg.name} needs ${name}, which is not in the package`);
    }
  }
  // Every module the extension requires, but `vscode` (VS Code provides it) and Node's own.
  for (const file of files.filter((file) => file.startsWith('out/') && file.endsWith('.js'))) {
    const from = createRequire(join(root, file));
    for (const [, name] of readFileSync(join(root, file), 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
      if (name === 'vscode' || builtinModules.includes(name.replace(/^node:/, ''))) continue;
      if (!canResolve(from, name)) problems.push(`${file} requires ${name}, which is not in the package`);
    }
  }
  // The parts that do not need VS Code load for real.
  for (const module of ['out/socket-transport.js', 'out/rest-client.js', 'out/workspace-files.js', 'out/connection-target.js']) {
    try {
      createRequire(join(root, 'package.json'))(join(root, module));
    } catch (error) {
      problems.push(`${module} does not load: ${error.message}`);
    }
  }
  const size = readFileSync(vsix).length;
  if (problems.length > 0) {
    console.error(`${vsix}:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log(`${vsix}: ${files.length} files, ${Math.round(size / 1024)} KiB; main, dependencies and modules check out`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function walk(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(directory, entry.name)) : [join(directory, entry.name)]));
}

function canResolve(from, name) {
  try {
    from.resolve(name);
    return true;
  } catch {
    return false;
  }
}
