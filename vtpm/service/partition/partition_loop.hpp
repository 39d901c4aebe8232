// Partition mode: requests framed as in wire/partition_frame.hpp arrive on
// fd 0, responses leave on fd 1, log lines go to fd 2. No files, sockets,
// threads or signal handlers: the process stays within the system-call
// allowlist of docs/vtpm-protocol.md (read, write, memory, clock, getrandom,
// exit), which is what the VMM's partition runtime implements.
#pragma once

#include "vtpm/service/engine/tpm_engine.hpp"

namespace mamori::vtpm::partition {

// Exit statuses of partition mode.
inline constexpr int kExitOk = 0;          // holder closed fd 0, or shutdown frame
inline constexpr int kExitFraming = 3;     // the request stream lost its framing
inline constexpr int kExitIo = 4;          // fd 1 is gone or a read failed

int run(engine::TpmEngine& tpm, int in_fd, int out_fd);

}  // namespace mamori::vtpm::partition
