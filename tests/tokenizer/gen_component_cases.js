// Generates daemon/engine/tokenizer/testdata/component_cases.json: small hand-written
// tokenizer.json files, one per normalizer / pre-tokenizer / model option / decoder feature,
// with the ids and texts Hugging Face tokenizers (@anush008/tokenizers) gives for them. Run once
// (node gen_component_cases.js) when a case is added; the C++ test asserts these exact values.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

// A char-level vocabulary with a few merges, byte fallback and an unk token.
function baseModel(extra = {}) {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let id = 3;
  for (let b = 0; b < 256; ++b) vocab['<0x' + b.toString(16).toUpperCase().padStart(2, '0') + '>'] = id++;
  for (const c of Array.from(' abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'-_▁éÅ#</>')) {
    if (!(c in vocab)) vocab[c] = id++;
  }
  const merges = [['h', 'e'], ['l', 'l'], ['he', 'll'], ['hell', 'o'], ['▁', 'hello'], ['w', 'o'],
                  ['wo', 'r'], ['wor', 'l'], ['worl', 'd'], ['▁', 'world'], ['1', '2'], ['12', '3']];
  for (const [a, b] of merges) if (!((a + b) in vocab)) vocab[a + b] = id++;
  return Object.assign({ type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
                         end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false,
                         vocab, merges }, extra);
}

// A byte-level vocabulary: the 256 GPT-2 byte chars plus a few merges.
function byteLevelModel(extra = {}) {
  const bs = [];
  for (let b = 33; b <= 126; ++b) bs.push(b);
  for (let b = 161; b <= 172; ++b) bs.push(b);
  for (let b = 174; b <= 255; ++b) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; ++b) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const vocab = {};
  let id = 0;
  bs.forEach((b, i) => { vocab[String.fromCodePoint(cs[i])] = id++; });
  const merges = [['Ġ', 'h'], ['e', 'l'], ['Ġh', 'el'], ['l', 'o'], ['Ġhel', 'lo'], ['1', '2']];
  for (const [a, b] of merges) vocab[a + b] = id++;
  return Object.assign({ type: 'BPE', dropout: null, unk_token: null, fuse_unk: false, byte_fallback: false,
                         ignore_merges: false, vocab, merges }, extra);
}

const special = (id, content, o = {}) => Object.assign(
    { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }, o);
const basicAdded = [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')];
const bos = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
              pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
              special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
const spDecoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' },
                                               { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }] };

function tok(o) {
  return Object.assign({ version: '1.0', truncation: null, padding: null, added_tokens: basicAdded, normalizer: null,
                         pre_tokenizer: null, post_processor: bos, decoder: spDecoder, model: baseModel() }, o);
}
const split = (pattern, behavior, invert = false) => ({ type: 'Split', pattern, behavior, invert });
const meta = (prepend_scheme, splitIt) => ({ type: 'Metaspace', replacement: '▁', add_prefix_space: prepend_scheme !== 'never', prepend_scheme, split: splitIt });

const TEXTS = ['hello world', ' hello  world ', 'HeLLo İ ÅÅ e\u0301 ﬁ ①', 'a1234b 12.5, x!?-y', 'hi<s>hello</s> world',
               '\ttab\nnew  line', '中文 😀', ''];

const cases = {
  nfc: tok({ normalizer: { type: 'NFC' } }),
  nfd: tok({ normalizer: { type: 'NFD' } }),
  nfkc: tok({ normalizer: { type: 'NFKC' } }),
  nfkd: tok({ normalizer: { type: 'NFKD' } }),
  lowercase: tok({ normalizer: { type: 'Lowercase' } }),
  strip: tok({ normalizer: { type: 'Strip', strip_left: true, strip_right: true } }),
  strip_left: tok({ normalizer: { type: 'Strip', strip_left: true, strip_right: false } }),
  replace_prepend: tok({ normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] } }),
  replace_regex: tok({ normalizer: { type: 'Replace', pattern: { Regex: '\\s+' }, content: '_' } }),
  split_removed: tok({ pre_tokenizer: split({ Regex: '\\s+' }, 'Removed') }),
  split_isolated: tok({ pre_tokenizer: split({ Regex: '\\p{N}+|\\s' }, 'Isolated') }),
  split_prev: tok({ pre_tokenizer: split({ String: ' ' }, 'MergedWithPrevious') }),
  split_next: tok({ pre_tokenizer: split({ String: ' ' }, 'MergedWithNext') }),
  split_contiguous: tok({ pre_tokenizer: split({ Regex: '[a-z]' }, 'Contiguous') }),
  split_invert: tok({ pre_tokenizer: split({ Regex: '\\w+(?=\\s|$)' }, 'Removed', true) }),
  metaspace_always: tok({ pre_tokenizer: meta('always', true), decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always', split: true } }),
  metaspace_first: tok({ pre_tokenizer: meta('first', false), decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'first', split: false } }),
  metaspace_never: tok({ pre_tokenizer: meta('never', true), decoder: { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'never', split: true } }),
  digits: tok({ pre_tokenizer: { type: 'Digits', individual_digits: false } }),
  digits_individual: tok({ pre_tokenizer: { type: 'Digits', individual_digits: true } }),
  punctuation: tok({ pre_tokenizer: { type: 'Punctuation', behavior: 'Isolated' } }),
  whitespace: tok({ pre_tokenizer: { type: 'Whitespace' } }),
  whitespace_split: tok({ pre_tokenizer: { type: 'WhitespaceSplit' } }),
  pre_sequence: tok({ pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }] } }),
  bytelevel_regex_prefix: tok({ model: byteLevelModel(), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
                                decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }, added_tokens: [special(300, '<s>'), special(301, '</s>')],
                                post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: { '<s>': { id: '<s>', ids: [300], tokens: ['<s>'] } } } }),
  bytelevel_no_regex: tok({ model: byteLevelModel({ ignore_merges: true }), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
                            decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }, added_tokens: [], post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false } }),
  added_strip: tok({ added_tokens: [special(0, '<unk>'), special(1, '<s>', { lstrip: true, rstrip: true }), special(2, '</s>', { rstrip: true }),
                                    special(500, 'world', { special: false, normalized: true, single_word: true }), special(501, 'ell', { special: false, normalized: false })],
                     normalizer: { type: 'Lowercase' } }),
  bpe_no_fallback_unk: tok({ model: baseModel({ byte_fallback: false, fuse_unk: false }) }),
  bpe_fuse_unk: tok({ model: baseModel({ byte_fallback: false, fuse_unk: true }) }),
  bpe_prefix_suffix: tok({ model: (() => { const m = baseModel({ byte_fallback: false, continuing_subword_prefix: '##', end_of_word_suffix: '</w>' });
                                            let id = 1000; for (const t of ['##e', '##l', '##o', 'o</w>', '##o</w>', 'd</w>', '##d</w>', 'h##e']) m.vocab[t] = id++;
                                            m.merges = [['h', '##e'], ['##l', '##l']]; m.vocab['##ll'] = id++; return m; })(),
                           pre_tokenizer: { type: 'WhitespaceSplit' } }),
  decoders: tok({ pre_tokenizer: meta('always', true), decoder: { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { Regex: '▁+' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 2, stop: 0 }] } }),
};

(async () => {
  const out = [];
  for (const [name, json] of Object.entries(cases)) {
    let t;
    try { t = Tokenizer.fromString(JSON.stringify(json)); } catch (e) { throw new Error(name + ': ' + e.message); }
    const results = [];
    for (const text of TEXTS) {
      const ids = (await t.encode(text, null, { addSpecialTokens: true })).getIds();
      const idsNoSpecial = (await t.encode(text, null, { addSpecialTokens: false })).getIds();
      results.push({ text, ids, ids_no_special: idsNoSpecial, decoded: await t.decode(ids, false),
                     decoded_skip: await t.decode(ids, true) });
    }
    out.push({ name, tokenizer: json, results });
  }
  const file = path.join(__dirname, '../../daemon/engine/tokenizer/testdata/component_cases.json');
  fs.writeFileSync(file, JSON.stringify({ note: 'Expected values computed once with @anush008/tokenizers (Hugging Face tokenizers) by tests/tokenizer/gen_component_cases.js', cases: out }) + '\n');
  console.log(`wrote ${out.length} cases to ${file}`);
})().catch((e) => { console.error(e); process.exit(1); });
