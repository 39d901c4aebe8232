#include "vmx/controls.hpp"

namespace mamori::vmx {
namespace {
struct BitName {
  uint8_t bit;
  const char* name;
};
#define MAMORI_X(name, b) {b, #name},
constexpr BitName kPin[] = {MAMORI_PIN_CONTROLS(MAMORI_X)};
constexpr BitName kProc[] = {MAMORI_PROC_CONTROLS(MAMORI_X)};
constexpr BitName kProc2[] = {MAMORI_PROC2_CONTROLS(MAMORI_X)};
constexpr BitName kExit[] = {MAMORI_EXIT_CONTROLS(MAMORI_X)};
constexpr BitName kEntry[] = {MAMORI_ENTRY_CONTROLS(MAMORI_X)};
#undef MAMORI_X

template <unsigned N>
const char* lookup(const BitName (&table)[N], unsigned bit) {
  for (const auto& e : table)
    if (e.bit == bit) return e.name;
  return nullptr;
}

const char* lookup(ControlKind k, unsigned bit) {
  switch (k) {
    case ControlKind::pin: return lookup(kPin, bit);
    case ControlKind::proc: return lookup(kProc, bit);
    case ControlKind::proc2: return lookup(kProc2, bit);
    case ControlKind::exit: return lookup(kExit, bit);
    case ControlKind::entry: return lookup(kEntry, bit);
  }
  return nullptr;
}
}  // namespace

const char* control_kind_name(ControlKind k) {
  switch (k) {
    case ControlKind::pin: return "pin-based";
    case ControlKind::proc: return "primary processor-based";
    case ControlKind::proc2: return "secondary processor-based";
    case ControlKind::exit: return "VM-exit";
    case ControlKind::entry: return "VM-entry";
  }
  return "?";
}

const char* control_bit_name(ControlKind k, unsigned bit) {
  const char* n = lookup(k, bit);
  return n ? n : "reserved";
}

bool control_bit_known(ControlKind k, unsigned bit) { return lookup(k, bit) != nullptr; }

}  // namespace mamori::vmx
