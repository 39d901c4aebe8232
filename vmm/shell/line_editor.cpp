#include "line_editor.hpp"

namespace mamori::shell {
namespace {
constexpr uint8_t kBackspace = 0x08, kDelete = 0x7F, kCtrlU = 0x15, kCr = '\r', kLf = '\n';
}

LineEditor::Event LineEditor::feed(uint8_t c) {
  if (completed_) {  // the previous line was consumed: start a new one
    reset();
    completed_ = false;
  }
  bool after_cr = last_was_cr_;
  last_was_cr_ = (c == kCr);
  if (c == kCr || c == kLf) {
    if (c == kLf && after_cr) return Event::None;  // CR LF counts once
    buf_[len_] = 0;
    completed_ = true;
    return Event::Line;
  }
  if (c == kBackspace || c == kDelete) {
    if (len_ == 0) return Event::None;
    buf_[--len_] = 0;
    return Event::Erase;
  }
  if (c == kCtrlU) {
    erased_ = len_;
    reset();
    return erased_ ? Event::EraseLine : Event::None;
  }
  if (c < 0x20 || c > 0x7E) return Event::None;  // other control bytes, escape sequences, 8-bit
  if (len_ == kMaxLine) return Event::None;
  buf_[len_++] = static_cast<char>(c);
  buf_[len_] = 0;
  return Event::Echo;
}

size_t tokenize(char* line, const char** argv, size_t max) {
  size_t n = 0;
  char* p = line;
  while (*p && n < max) {
    while (*p == ' ' || *p == '\t') *p++ = 0;
    if (!*p) break;
    argv[n++] = p;
    while (*p && *p != ' ' && *p != '\t') ++p;
  }
  return n;
}

}  // namespace mamori::shell
