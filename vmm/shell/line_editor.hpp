// Serial-line editing for the shell: printable characters are appended,
// backspace/DEL erase one, Ctrl-U clears the line, CR or LF completes it.
// Pure and host-tested; the caller echoes what feed() asks it to.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mamori::shell {

class LineEditor {
 public:
  static constexpr size_t kMaxLine = 160;

  enum class Event : uint8_t {
    None,       // nothing to echo (ignored byte, or the line is full)
    Echo,       // echo the byte
    Erase,      // erase one character on the terminal ("\b \b")
    EraseLine,  // erase `erased()` characters
    Line,       // a complete line is available through line()
  };

  Event feed(uint8_t byte);
  const char* line() const { return buf_; }  // valid after Event::Line, NUL-terminated
  size_t length() const { return len_; }
  size_t erased() const { return erased_; }
  void reset() { len_ = 0; buf_[0] = 0; }

 private:
  char buf_[kMaxLine + 1] = {};
  size_t len_ = 0;
  size_t erased_ = 0;
  bool last_was_cr_ = false;
  bool completed_ = false;
};

// Splits `line` in place into at most `max` whitespace-separated words.
size_t tokenize(char* line, const char** argv, size_t max);

}  // namespace mamori::shell
