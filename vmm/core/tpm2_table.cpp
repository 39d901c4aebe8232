// TPM2 table and CRB control area decoding: see tpm2_table.hpp.
#include "tpm2_table.hpp"

#include "acpi_bytes.hpp"

namespace mamori::core {
namespace {

using namespace acpi_bytes;

// TPM2 table offsets (TCG ACPI Specification 1.3, "TPM2" table).
constexpr size_t kPlatformClass = 36, kControlArea = 40, kStartMethod = 48,
                 kStartParams = 52, kLaml = 64, kLasa = 68;

// CRB control area offsets (PTP specification, CRB interface registers,
// relative to the control area): the buffer description part.
constexpr size_t kCrbCmdSize = 0x18, kCrbCmdAddrLow = 0x1c, kCrbCmdAddrHigh = 0x20,
                 kCrbRspSize = 0x24, kCrbRspAddr = 0x28;

}  // namespace

const char* tpm2_start_method_name(uint32_t m) {
  switch (static_cast<Tpm2StartMethod>(m)) {
    case Tpm2StartMethod::NotAllowed: return "not allowed (0)";
    case Tpm2StartMethod::AcpiStart: return "ACPI start";
    case Tpm2StartMethod::Tis: return "TIS/FIFO (memory mapped)";
    case Tpm2StartMethod::Crb: return "CRB";
    case Tpm2StartMethod::CrbWithAcpiStart: return "CRB with ACPI start";
    case Tpm2StartMethod::CrbWithArmSmc: return "CRB with Arm SMC";
    case Tpm2StartMethod::CrbWithPluton: return "CRB with Pluton";
    case Tpm2StartMethod::CrbWithArmFfa: return "CRB with Arm FF-A";
  }
  return "reserved/unknown";
}

bool tpm2_start_method_is_crb(uint32_t m) {
  switch (static_cast<Tpm2StartMethod>(m)) {
    case Tpm2StartMethod::Crb:
    case Tpm2StartMethod::CrbWithAcpiStart:
    case Tpm2StartMethod::CrbWithArmSmc:
    case Tpm2StartMethod::CrbWithPluton:
    case Tpm2StartMethod::CrbWithArmFfa: return true;
    default: return false;
  }
}

AcpiError tpm2_parse(const uint8_t* t, size_t len, Tpm2Info& out) {
  out = Tpm2Info{};
  if (AcpiError e = acpi_check_table(t, len, "TPM2", kTpm2MinLength); e != AcpiError::None)
    return e;
  const size_t length = rd32(t + 4);  // ≤ len, checked above
  out.revision = t[8];
  out.platform_class = rd16(t + kPlatformClass);
  out.control_area = rd64(t + kControlArea);
  out.start_method = rd32(t + kStartMethod);
  // Start Method Specific Parameters run up to LAML when the log fields are
  // there; older tables end right after them (or carry none).
  const size_t params_end = length < kLaml ? length : kLaml;
  out.start_params_length = params_end - kStartParams;
  for (size_t i = 0; i < out.start_params_length; ++i) out.start_params[i] = t[kStartParams + i];
  if (tpm2_start_method_is_crb(out.start_method) && out.control_area == 0)
    return AcpiError::Tpm2MissingControlArea;
  if (length >= kTpm2LengthWithLog) {
    out.log_min_length = rd32(t + kLaml);
    out.log_address = rd64(t + kLasa);
    if (out.log_address > UINT64_MAX - out.log_min_length) return AcpiError::Tpm2LogAreaOverflow;
    out.has_log = out.log_min_length != 0 && out.log_address != 0;
  }
  return AcpiError::None;
}

AcpiError crb_decode_control_area(const uint8_t* r, size_t len, CrbBuffers& out) {
  out = CrbBuffers{};
  if (r == nullptr || len < kCrbControlAreaLength) return AcpiError::TableTooShort;
  out.command_size = rd32(r + kCrbCmdSize);
  out.command_address = rd32(r + kCrbCmdAddrLow) | (uint64_t{rd32(r + kCrbCmdAddrHigh)} << 32);
  out.response_size = rd32(r + kCrbRspSize);
  out.response_address = rd64(r + kCrbRspAddr);
  if (out.command_size == 0 || out.response_size == 0 || out.command_address == 0 ||
      out.response_address == 0 || out.command_address > UINT64_MAX - out.command_size ||
      out.response_address > UINT64_MAX - out.response_size)
    return AcpiError::CrbBadBuffer;
  return AcpiError::None;
}

}  // namespace mamori::core
