// A hard corpus: scripts, emoji (ZWJ), code, numbers, whitespace runs, special-token strings.
module.exports = [
  "", " ", "Hello, world!", "Hello world", "  leading and trailing  ", "tabs\tand\nnewlines\r\n\n\n",
  "The quick brown fox jumps over the lazy dog.", "I'm sure they'll've done it, we'd say.",
  "Ünïcödé façade naïve coöperate", "日本語のテキストです。中文文本。한국어 텍스트", "Привет, мир! Ελληνικά",
  "العربية עברית हिन्दी தமிழ் ไทย", "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🏳️‍🌈 flag", "emoji😀in😀words",
  "int main() {\n    return 0;\n}\n", "def f(x):\n\treturn x**2  # square", "{\"json\": [1, 2.5, -3e10]}",
  "1 12 123 1234 12345 123456789 3.14159 -42 1e-9 0x1F", "a" + " ".repeat(40) + "b", "\n".repeat(10),
  "<|begin_of_text|>hello<|end_of_text|>", "text<|begin_of_text|>", "<|eot_id|> <|start_header_id|>user<|end_header_id|>",
  "Mixed CASE and ALLCAPS WORDS", "don't DON'T Don'T", "é", "\u00a0non-breaking\u2003em space",
  "x".repeat(3000), ("The energy per token varies. ").repeat(200),
];
