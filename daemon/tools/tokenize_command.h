// `eprof-llm tokenize`: encodes text to ids or decodes ids to text with a tokenizer.json.
//
//   eprof-llm tokenize --tokenizer FILE | --model DIR  [--no-special] [--skip-special] [--json]
//                      (TEXT | --file F | --decode 1,2,3 | --batch)
//
// --model DIR reads DIR/tokenizer.json. Encoding prints the ids separated by spaces (with
// --json: {"ids":[…],"count":N}); --no-special leaves out the post-processor's BOS/EOS.
// --decode prints the text (--skip-special drops special tokens). --batch reads JSON lines
// from stdin and answers one JSON line each, in order, so a whole corpus runs in one process:
//   {"text": "…", "add_special_tokens": true}        -> {"ids": […]}
//   {"ids": […], "skip_special_tokens": false}       -> {"text": "…"}
//   anything wrong with a line                       -> {"error": "…"}
#ifndef EPROF_DAEMON_TOOLS_TOKENIZE_COMMAND_H_
#define EPROF_DAEMON_TOOLS_TOKENIZE_COMMAND_H_

namespace eprof::tools {

// argv holds the arguments after the word "tokenize" (argv[0] is the first of them).
// Returns the process exit status: 0 on success, 1 on a tokenizer error, 2 on bad usage.
int RunTokenizeCommand(int argc, char** argv);

}  // namespace eprof::tools

#endif  // EPROF_DAEMON_TOOLS_TOKENIZE_COMMAND_H_
