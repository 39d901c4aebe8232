#include "shell.hpp"
#include "vmm/arch/cpu.hpp"
#include "vmm/console.hpp"
#include "vmm/shell/commands.hpp"
#include "vmm/shell/line_editor.hpp"
#include "vmm/vm/guest.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::shell {
namespace {
using lib::copy_str;
using lib::str_eq;
LineEditor g_ed;
constexpr const char* kPrompt = "mamori> ";
constexpr size_t kMaxArgs = 16;


void execute(char* line) {
  const char* argv[kMaxArgs];
  size_t argc = tokenize(line, argv, kMaxArgs);
  if (argc == 0) return;
  size_t n = 0;
  const Command* cmds = commands(n);
  for (size_t i = 0; i < n; ++i) {
    if (!str_eq(cmds[i].name, argv[0])) continue;
    if (!cmds[i].run(static_cast<int>(argc), argv))
      console::printf("usage: %s %s\n", cmds[i].name, cmds[i].usage);
    return;
  }
  console::printf("unknown command '%s': type 'help' for the list of commands\n", argv[0]);
}
}  // namespace

void start(const boot::BootInfo&) { console::printf("\nmamori shell ready: type 'help'\n%s", kPrompt); }

void attach(int guest_id) { vm::g_attached_guest = guest_id; }

void poll() {
  LineEditor& ed = g_ed;
  for (int budget = 0; budget < 64; ++budget) {
    int c = console::try_getc();
    if (c < 0) return;
    if (vm::g_attached_guest >= 0) {
      vm::Guest& g = vm::guest_table()[vm::g_attached_guest];
      if (c == kDetachByte) {
        vm::g_attached_guest = -1;
        console::printf("\n[detached from %s]\n%s", g.name, kPrompt);
        continue;
      }
      if (g.input_tail - g.input_head < vm::Guest::kInputSize) {
        g.input[g.input_tail % vm::Guest::kInputSize] = static_cast<char>(c);
        g.input_tail = g.input_tail + 1;
      }
      continue;
    }
    switch (ed.feed(static_cast<uint8_t>(c))) {
      case LineEditor::Event::None: break;
      case LineEditor::Event::Echo: console::putc(static_cast<char>(c)); break;
      case LineEditor::Event::Erase: console::write("\b \b"); break;
      case LineEditor::Event::EraseLine:
        for (size_t i = 0; i < ed.erased(); ++i) console::write("\b \b");
        break;
      case LineEditor::Event::Line: {
        console::write("\n");
        char line[LineEditor::kMaxLine + 1];
        size_t i = 0;
        for (; ed.line()[i]; ++i) line[i] = ed.line()[i];
        line[i] = 0;
        execute(line);
        console::write(kPrompt);
        break;
      }
    }
  }
}

}  // namespace mamori::shell
