// Console text of VMX diagnostics, and the typed exit-information reader.
#include <catch.hpp>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "vmx/exit_info.hpp"
#include "vmx/format.hpp"

using namespace mamori::vmx;
using namespace mamori::vmx::testdata;

TEST_CASE("capability summary lines") {
  char buf[256];
  format_capabilities(decode(raw_from(kBochsSkylakeX)), buf, sizeof buf);
  CHECK(std::string(buf) ==
        "VMX rev 0x2b, VMCS 4096 B WB, TRUE controls; EPT 4-level WB UC 2M 1G A/D INVEPT single all; "
        "VPID INVVPID addr single all single-globals; unrestricted guest; preemption timer 1/2^0 TSC");
  format_capabilities(decode(raw_from(kBochsIvyBridge)), buf, sizeof buf);
  CHECK(std::string(buf).find("EPT 4-level WB UC 2M INVEPT") != std::string::npos);
  format_capabilities(decode(raw_from(kCoffeeLake)), buf, sizeof buf);
  CHECK(std::string(buf).find("VMX rev 0x4, VMCS 1024 B WB") == 0);
  CHECK(std::string(buf).find("preemption timer 1/2^7 TSC") != std::string::npos);
  format_capabilities(VmxCapabilities{}, buf, sizeof buf);
  CHECK(std::string(buf) == "no VMX");
}

TEST_CASE("findings, missing controls and violations in words") {
  char buf[200];
  format_finding({Severity::warning, "EPT: 1 GiB pages not supported (guests use 2 MiB pages)"}, buf, sizeof buf);
  CHECK(std::string(buf) == "warning: EPT: 1 GiB pages not supported (guests use 2 MiB pages)");
  format_control_bit({ControlKind::proc2, 7}, buf, sizeof buf);
  CHECK(std::string(buf) == "secondary processor-based control 'unrestricted_guest' (bit 7)");

  const Machine m = machine(kBochsSkylakeX);
  VmcsImage v = good_image(m, GuestKind::long_mode);
  v.set(VmcsField::guest_cs_access_rights, 0xE09B);
  EntryCheckReport r;
  check_vm_entry(v, m.ctx, r);
  REQUIRE(r.count == 1);
  format_violation(r.violations[0], buf, sizeof buf);
  CHECK(std::string(buf) ==
        "[SDM 27.3.1.2] guest CS: L = 1 in IA-32e mode requires D/B = 0 "
        "(guest_cs_access_rights = 0xe09b)");
}

TEST_CASE("text buffer truncates safely") {
  char buf[8];
  TextBuffer t(buf, sizeof buf);
  t.put("hello world").hex(0xdead);
  CHECK(std::string(buf) == "hello w");
  CHECK(t.truncated());
  char one[1];
  TextBuffer z(one, 1);
  z.put("x");
  CHECK(one[0] == 0);
  char d[24];
  TextBuffer n(d, sizeof d);
  n.dec(18446744073709551615ull);
  CHECK(std::string(d) == "18446744073709551615");
}

TEST_CASE("exit information is read once and typed") {
  VmcsImage img;
  img.set(VmcsField::exit_reason, 30);  // I/O instruction
  img.set(VmcsField::exit_qualification, 0x03F80008);  // in %dx,%al port 0x3F8
  img.set(VmcsField::exit_instruction_length, 1);
  img.set(VmcsField::guest_physical_address, 0xFED40000);
  const ExitInfo e = read_exit_info([&](VmcsField f) { return img.get(f); });
  CHECK(e.basic() == ExitReason::io_instruction);
  CHECK(e.io().port() == 0x3F8);
  CHECK(e.io().in());
  CHECK(e.io().size_bytes() == 1);
  CHECK(e.instruction_length == 1);
  CHECK(e.guest_physical_address == 0xFED40000);
  CHECK_FALSE(e.reason.entry_failure());
  for (VmcsField f : kExitInfoFields) CHECK(field_is_read_only(f));
}

TEST_CASE("the serial-log diagnosis of a failed VM entry") {
  const Machine m = machine(kBochsIvyBridge);
  VmcsImage v = good_image(m, GuestKind::real_mode);
  v.set(VmcsField::guest_ss_access_rights, 0xF3);  // DPL 3 in real mode
  EntryCheckReport r;
  check_vm_entry(v, m.ctx, r);
  std::vector<std::string> lines;
  EntryFailure f;
  f.exit_reason = {0x80000021};
  print_entry_failure(f, r, [&](const char* l) { lines.emplace_back(l); });
  // SS.DPL 3 breaks two rules: real mode needs SS.DPL 0, and CS (DPL 0,
  // non-conforming) must match SS.DPL.
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "VM entry failed: exit reason 33 (entry_fail_guest_state), qualification 0x0");
  CHECK(lines[1] == "entry checker: 2 rule(s) violated:");
  CHECK(lines[2] ==
        "[SDM 27.3.1.2] guest CS: non-conforming code requires CS.DPL = SS.DPL "
        "(guest_cs_access_rights = 0x9b)");
  CHECK(lines[3] ==
        "[SDM 27.3.1.2] guest SS: DPL must be 0 in real mode or with CS type 3 "
        "(guest_ss_access_rights = 0xf3)");

  lines.clear();
  EntryFailure host;
  host.vm_fail_valid = true;
  host.vm_instruction_error = 8;
  EntryCheckReport none;
  print_entry_failure(host, none, [&](const char* l) { lines.emplace_back(l); });
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "VM entry failed: VM-instruction error 8 (VM entry with invalid host-state field(s))");
  CHECK(lines[1].find("no rule violated") != std::string::npos);
}

TEST_CASE("control words in names") {
  char buf[400];
  const Machine m = machine(kBochsSkylakeX);
  format_control_word(ControlKind::pin, m.ctl.pin(), buf, sizeof buf);
  CHECK(std::string(buf) ==
        "pin-based 0x7f: external_interrupt_exiting nmi_exiting virtual_nmis preemption_timer +3 reserved");
  format_control_word(ControlKind::proc2, m.ctl.proc2(), buf, sizeof buf);
  CHECK(std::string(buf) ==
        "secondary processor-based 0x1010ea: enable_ept enable_rdtscp enable_vpid wbinvd_exiting unrestricted_guest "
        "enable_invpcid enable_xsaves");
  format_control_word(ControlKind::entry, 0, buf, sizeof buf);
  CHECK(std::string(buf) == "VM-entry 0x0:");
}
