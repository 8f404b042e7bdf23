// Writes precompressed siblings of the release build's text and wasm files (`x.wasm.gz`,
// `x.wasm.br`, ...) next to them in the dist directory, which the relay serves as they are
// when the browser accepts the encoding (relay-server/src/static_files.rs) instead of
// compressing on every request. Run by `cargo xtask build` after Trunk: `node
// xtask/precompress.mjs DIST_DIR`. Node's own zlib: no dependency.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node xtask/precompress.mjs DIST_DIR');
  process.exit(2);
}
const COMPRESSIBLE = /\.(wasm|js|css|html|svg|json)$/;
let files = 0;
for (const name of readdirSync(dir)) {
  if (!COMPRESSIBLE.test(name)) continue;
  const bytes = readFileSync(join(dir, name));
  writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  writeFileSync(join(dir, `${name}.br`), brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  }));
  files += 1;
}
console.log(`precompressed ${files} files in ${dir} (.gz, .br)`);
