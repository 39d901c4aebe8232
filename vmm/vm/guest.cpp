#include "guest.hpp"
#include "vmm/lib/text.hpp"

namespace mamori::vm {
volatile int g_attached_guest = -1;
namespace {
using lib::copy_str;
using lib::str_eq;
Guest g_guests[kMaxGuests];

}  // namespace

const char* state_name(GuestState s) {
  switch (s) {
    case GuestState::Empty: return "empty";
    case GuestState::Created: return "created";
    case GuestState::Runnable: return "running";
    case GuestState::Stopped: return "stopped";
    case GuestState::Halted: return "halted";
    case GuestState::Faulted: return "faulted";
    case GuestState::PoweredOff: return "powered off";
  }
  return "?";
}

Guest* guest_table() { return g_guests; }
Guest& vm_of(Guest& g) { return g_guests[g.vm_slot]; }

Guest* find_guest(const char* name) {
  for (Guest& g : g_guests)
    if (g.state != GuestState::Empty && !is_ap(g) && str_eq(g.name, name)) return &g;
  return nullptr;
}

unsigned guest_count() {
  unsigned n = 0;
  for (Guest& g : g_guests) n += g.state != GuestState::Empty && !is_ap(g);
  return n;
}

}  // namespace mamori::vm
