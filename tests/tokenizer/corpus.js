// A deliberately hard corpus for tokenizer parity: scripts, emoji, code, numbers, whitespace
// runs, special-token strings inside text, byte-fallback characters, empty and long inputs.
'use strict';

function corpus() {
  const s = [
    '', ' ', '  ', '\n', '\t', 'a', 'Hello world!', ' Hello', 'Hello ', 'hello   world',
    'The quick brown fox jumps over the lazy dog.',
    "I'm sure you'll see it's what we've done, didn't we? I'D SAY IT'S FINE. 'tis",
    'Привет, мир! Как дела?', 'Γειά σου Κόσμε', 'שלום עולם', 'مرحبا بالعالم', 'नमस्ते दुनिया',
    'こんにちは世界。カタカナとひらがな', '你好，世界！我们的测试。', '안녕하세요 세계', 'สวัสดีชาวโลก',
    'ሰላም ልዑል', 'Ἐν ἀρχῇ ἦν ὁ λόγος', 'Ẓ̌ạ̈l̷g̴o̵ ̶t̸e̷x̶t̴', 'e\u0301 vs \u00e9, \u212b vs \u00c5, ﬁ ligature, Ⅻ, ①',
    'Türkçe İstanbul ıi', 'straße STRASSE', '😀 😃 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷 ❤️‍🔥 🧑🏿‍💻',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𓀀 𐍈 🜁', '\u0000\u0001\u001f\u007f control chars', '\u00a0nbsp\u2009thin\u3000ideo\u180emvs\u0085nel',
    'zero\u200bwidth\u200djoiner\ufeffbom', '\ue000\uf8ff private use', '\ud83d\ude00'.repeat(3),
    'def f(x):\n    return x ** 2  # square\n\n\nclass A:\n\tpass\n',
    'for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }\r\n',
    '#include <stdio.h>\nint main(){printf("%d\\n", 42);}',
    'const re = /[a-z]+\\d{2,}/gi; // regex', '<div class="x">&amp; &lt;tag&gt;</div>',
    '{"key": [1, 2.5e-3, null, true], "ü": "\\u00fc"}', 'SELECT * FROM t WHERE a >= 10 AND b <> \'x\';',
    '0', '1', '12', '123', '1234', '12345', '123456', '1234567', '12345678901234567890',
    '3.14159265358979', '-42', '1,000,000', '1e10', '0x1F', '٣٤٥ ١٢', '१२३', '①②③', '½ ¾ ⅞',
    'phone: +1 (555) 123-4567, year 2024, v1.2.3',
    ' '.repeat(17), '\n'.repeat(9), '\t'.repeat(5), ' \n \n\t\t \r\n  x', 'a  b   c    d     e',
    'end with spaces     ', '     start with spaces', 'mixed \t \n whitespace \u3000 here',
    '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n',
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
    '<s>[INST] hi [/INST]</s>', 'text<s>inside</s>text', '<bos><start_of_turn>user\nhi<end_of_turn>\n',
    'almost special <|im_start and <s x> and <|endoftext|>!', '<<s>> <|<|endoftext|>|>',
    '\u{10FFFF}\u{E0001}\u{1D7D8}', '�', 'ǅ ǈ ǋ Dž', 'ℌ℮ℓℓ◎ ωσrℓ∂', '¿¡Qué tal!?', '«quoted» „German“ “curly”',
    'tab\tseparated\tvalues\n1\t2\t3', 'CamelCaseIdentifierWithNumbers123AndMore',
    'snake_case_identifier __dunder__', 'email@example.com https://example.org/path?q=1&r=2#frag',
    '...!!!???,,,;;;:::', '—–-‐', '©®™ § ¶ † ‡ • …', '$100 €50 £20 ¥1000 ₹500 ₿',
    'ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３', 'ｶﾀｶﾅ', 'ㄱㄴㄷ ᄀᄁ', 'Ǆemal', 'İi̇', 'ΣΑΣ σας',
  ];
  // Long and very long inputs.
  const para = 'Energy per token depends on the model, the prompt and the hardware; ' +
      'measure it, do not guess. 能耗测量。 Энергия. 🔋⚡ 1234567 ';
  s.push(para.repeat(20));
  s.push('a'.repeat(3000));
  s.push(' '.repeat(3000) + 'x');
  s.push('😀'.repeat(500));
  s.push('1234567890'.repeat(200));
  s.push('\n\n'.repeat(400) + 'end');
  // Pseudo-random mixtures from a fixed seed.
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const pool = Array.from(
      'abcXYZ 019\n\t.,!?\'"-_<>|/\\éüßøñ€₹中文日本語한국어Жжעברית😀👍🏽‍🔥 \u00a0\u200d');
  for (let k = 0; k < 200; ++k) {
    let t = '';
    const n = 1 + rnd(80);
    for (let i = 0; i < n; ++i) t += pool[rnd(pool.length)];
    s.push(t);
  }
  return s;
}

module.exports = { corpus };
