#include "client_cli/format.h"

#include <string>

#include "gtest/gtest.h"

namespace eprof::cli {
namespace {

// Before, text a model generated reached the terminal raw: an escape sequence in it could move
// the cursor, recolour the screen or retitle the window.
TEST(TerminalSafeTest, ControlCharactersAreEscapedAndTextIsKept) {
  EXPECT_EQ(TerminalSafe("plain text, tabs\tand\nnewlines"), "plain text, tabs\tand\nnewlines");
  EXPECT_EQ(TerminalSafe("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
  EXPECT_EQ(TerminalSafe("cr\r del\x7f nul" + std::string(1, '\0')), "cr\\x0d del\\x7f nul\\x00");
  EXPECT_EQ(TerminalSafe("\xC2\x9B" "31m"), "\\u009b31m") << "C1 CSI";
  EXPECT_EQ(TerminalSafe("énergie €, 能量 🔋"), "énergie €, 能量 🔋");
}

TEST(TerminalSafeTest, BytesThatAreNotUtf8AreEscaped) {
  EXPECT_EQ(TerminalSafe("a\xff" "b"), "a\\xffb");
  EXPECT_EQ(TerminalSafe("\xC3"), "\\xc3") << "truncated sequence";
  EXPECT_EQ(TerminalSafe("\xE0\x80\x80"), "\\xe0\\x80\\x80") << "overlong";
  EXPECT_EQ(TerminalSafe("\xED\xA0\x80"), "\\xed\\xa0\\x80") << "surrogate";
}

TEST(FirstInvalidUtf8Test, FindsTheFirstByteThatIsNotUtf8) {
  EXPECT_EQ(FirstInvalidUtf8("café €, 能量 🔋"), std::string::npos);
  EXPECT_EQ(FirstInvalidUtf8("caf\xe9"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("ok\xC0\x80"), 2u) << "overlong";
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u) << "surrogate";
  EXPECT_EQ(FirstInvalidUtf8("ab\xF0\x9F"), 2u) << "truncated";
}

}  // namespace
}  // namespace eprof::cli
