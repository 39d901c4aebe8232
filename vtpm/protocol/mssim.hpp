// The Microsoft TPM 2.0 simulator's TCP protocol (ms-tpm-20-ref
// TpmTcpProtocol.h), as spoken by tpm2-tss's tcti-mssim: a command port and a
// platform port, u32 big-endian codes. TPM_SEND_COMMAND carries u8 locality,
// u32 size, command; the answer is u32 size, response, u32 0. Platform
// signals are answered with a u32 0.
#pragma once
#include <stdint.h>

namespace mamori::vtpm::protocol::mssim {

enum Code : uint32_t {
  kSignalPowerOn = 1,
  kSignalPowerOff = 2,
  kSignalPhysPresOn = 3,
  kSignalPhysPresOff = 4,
  kSignalHashStart = 5,
  kSignalHashData = 6,   // u32 length, data
  kSignalHashEnd = 7,
  kSendCommand = 8,      // u8 locality, u32 size, command
  kSignalCancelOn = 9,
  kSignalCancelOff = 10,
  kSignalNvOn = 11,
  kSignalNvOff = 12,
  kSignalKeyCacheOn = 13,
  kSignalKeyCacheOff = 14,
  kRemoteHandshake = 15,
  kSignalReset = 17,
  kSignalRestart = 18,
  kSessionEnd = 20,
  kStop = 21,
};

inline constexpr uint32_t kAck = 0;
inline constexpr uint32_t kNack = 1;

}  // namespace mamori::vtpm::protocol::mssim
