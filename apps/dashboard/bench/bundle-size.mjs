// Prints the size of the page's bundle (minified, gzip) and what it is made of, by package.
//   node apps/dashboard/bench/bundle-size.mjs
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));
const result = await build({ configFile, logLevel: 'silent', build: { write: false, sourcemap: false } });
const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output);
const byPackage = new Map();
let js = 0;
let jsGzip = 0;
for (const file of outputs) {
  const bytes = file.type === 'chunk' ? Buffer.from(file.code) : Buffer.from(file.source);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  console.log(`${file.fileName.padEnd(34)} ${(bytes.length / 1024).toFixed(1).padStart(7)} kB  gzip ${(gzip / 1024).toFixed(1).padStart(6)} kB`);
  if (file.type !== 'chunk') continue;
  js += bytes.length;
  jsGzip += gzip;
  for (const [id, module] of Object.entries(file.modules)) {
    const match = id.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/) ?? id.match(/packages\/([^/]+)\//);
    const name = match ? (id.includes('/packages/') && !id.includes('node_modules') ? `@greenraft/${match[1]}` : match[1]) : id.includes('/apps/dashboard/') ? 'the dashboard itself' : id;
    byPackage.set(name, (byPackage.get(name) ?? 0) + module.renderedLength);
  }
}
console.log(`\nJavaScript: ${(js / 1024).toFixed(1)} kB minified, ${(jsGzip / 1024).toFixed(1)} kB gzip. By package (rendered source before minification):`);
for (const [name, size] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(34)} ${(size / 1024).toFixed(1).padStart(7)} kB`);
