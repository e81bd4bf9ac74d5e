// Compares eprof's token ids with the Hugging Face tokenizers library (@anush008/tokenizers, the
// real Rust library, native) on a hard corpus, with and without special tokens, and checks that
// decoding matches. Tokenizers eprof does not support must be rejected at load with an error
// naming the component (never tokenized wrong); they are reported, not compared.
//
//   node parity.js EPROF_LLM TOKENIZER.json [TOKENIZER.json ...]
// Prints per tokenizer how many strings and tokens were compared, and finally
// "N passed, N failed"; exits 1 on any failure.
const { Tokenizer } = require('@anush008/tokenizers');
const { execFileSync, spawnSync } = require('child_process');
const corpus = require('./corpus.js');

async function check(eprofLlm, file) {
  const name = file.split('/').slice(-3).join('/');
  const probe = spawnSync(eprofLlm, ['tokenize', '--tokenizer', file, 'x']);
  if (probe.status !== 0) {
    const msg = probe.stderr.toString().trim();
    if (/is not supported by eprof's tokenizer/.test(msg)) {
      console.log(`${name}: not supported yet, rejected at load as it must be: ${msg.replace(/^.*?: /, '')}`);
      return { pass: 1, fail: 0 };
    }
    console.log(`${name}: FAILED to load: ${msg}`);
    return { pass: 0, fail: 1 };
  }
  const ref = Tokenizer.fromFile(file);
  const input = corpus.map(t => JSON.stringify({ text: t })).join('\n') + '\n';
  const out = execFileSync(eprofLlm, ['tokenize', '--tokenizer', file, '--batch'], { input, maxBuffer: 1 << 28 })
      .toString().trim().split('\n').map(l => JSON.parse(l));
  let pass = 0, fail = 0, tokens = 0;
  for (let i = 0; i < corpus.length; i++) {
    for (const special of [true, false]) {
      const want = Array.from((await ref.encode(corpus[i], null, { addSpecialTokens: special })).getIds());
      const got = special ? out[i].ids : out[i].ids_no_special;
      tokens += want.length;
      if (JSON.stringify(want) === JSON.stringify(got)) {
        pass++;
      } else {
        fail++;
        console.log(`  MISMATCH (special=${special}) ${JSON.stringify(corpus[i]).slice(0, 60)}: want ${want.slice(0, 10)} got ${got ? got.slice(0, 10) : out[i].error}`);
      }
    }
    const decoded = await ref.decode(out[i].ids_no_special || [], false);
    if (decoded === out[i].decoded) pass++;
    else { fail++; console.log(`  DECODE MISMATCH ${JSON.stringify(corpus[i]).slice(0, 60)}`); }
  }
  console.log(`${name}: ${corpus.length} strings, ${tokens} tokens compared, ${fail} mismatches`);
  return { pass, fail };
}

(async () => {
  const [eprofLlm, ...files] = process.argv.slice(2);
  let pass = 0, fail = 0;
  for (const f of files) {
    const r = await check(eprofLlm, f);
    pass += r.pass;
    fail += r.fail;
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail > 0 ? 1 : 0);
})();
