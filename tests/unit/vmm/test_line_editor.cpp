#include <catch.hpp>
#include <string>

#include "vmm/shell/line_editor.hpp"

using mamori::shell::LineEditor;
using Event = LineEditor::Event;

namespace {
// Feeds bytes; returns the completed line (or "<none>").
std::string feed(LineEditor& ed, const std::string& bytes) {
  std::string line = "<none>";
  for (unsigned char c : bytes)
    if (ed.feed(c) == Event::Line) line = ed.line();
  return line;
}
}  // namespace

TEST_CASE("line editor: printable bytes echo, CR completes") {
  LineEditor ed;
  CHECK(ed.feed('h') == Event::Echo);
  CHECK(ed.feed('i') == Event::Echo);
  CHECK(ed.feed('\r') == Event::Line);
  CHECK(std::string(ed.line()) == "hi");
}

TEST_CASE("line editor: backspace and DEL erase, never below empty") {
  LineEditor ed;
  CHECK(feed(ed, "verzz\b\x7fsion\r") == "version");
  LineEditor e2;
  CHECK(e2.feed('\b') == Event::None);
  CHECK(e2.feed('a') == Event::Echo);
  CHECK(e2.feed('\b') == Event::Erase);
  CHECK(e2.feed('\b') == Event::None);
}

TEST_CASE("line editor: Ctrl-U clears, reports how much") {
  LineEditor ed;
  feed(ed, "abc");
  CHECK(ed.feed(0x15) == Event::EraseLine);
  CHECK(ed.erased() == 3);
  CHECK(feed(ed, "x\r") == "x");
}

TEST_CASE("line editor: CR LF counts once, LF alone completes, next line starts fresh") {
  LineEditor ed;
  CHECK(feed(ed, "a\r\n") == "a");
  CHECK(feed(ed, "b\n") == "b");
  CHECK(feed(ed, "\r") == "");
}

TEST_CASE("line editor: control, escape and 8-bit bytes are ignored; the line is bounded") {
  LineEditor ed;
  CHECK(ed.feed(0x1b) == Event::None);
  CHECK(ed.feed(0x80) == Event::None);
  CHECK(ed.feed(0x07) == Event::None);
  std::string longer(LineEditor::kMaxLine + 20, 'x');
  std::string got = feed(ed, longer + "\r");
  CHECK(got.size() == LineEditor::kMaxLine);
}

TEST_CASE("tokenize splits on blanks and respects the maximum") {
  char line[] = "  vm   info\tguest1  ";
  const char* argv[4];
  REQUIRE(mamori::shell::tokenize(line, argv, 4) == 3);
  CHECK(std::string(argv[0]) == "vm");
  CHECK(std::string(argv[1]) == "info");
  CHECK(std::string(argv[2]) == "guest1");
  char many[] = "a b c d e";
  CHECK(mamori::shell::tokenize(many, argv, 2) == 2);
  char empty[] = "   ";
  CHECK(mamori::shell::tokenize(empty, argv, 4) == 0);
}
