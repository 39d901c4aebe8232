#include "vtpm/protocol/swtpm_ctrl.hpp"

namespace mamori::vtpm::protocol::swtpm {

bool fixed_request_size(uint32_t cmd, size_t& out) {
  switch (cmd) {
    case kGetCapability: case kShutdown: case kGetTpmEstablished: case kHashStart:
    case kHashEnd: case kCancelTpmCmd: case kStoreVolatile: case kStop:
    case kGetConfig: case kSetDataFd:
      out = 0; return true;
    case kInit: out = kInitReqSize; return true;
    case kSetLocality: out = kLocalityReqSize; return true;
    case kResetTpmEstablished: out = kResetEstReqSize; return true;
    case kHashData: out = kHashDataHdrSize; return true;
    case kGetStateBlob: out = kGetStateReqSize; return true;
    case kSetStateBlob: out = kSetStateHdrSize; return true;
    case kSetBufferSize: out = kSetBufferSizeReqSize; return true;
    case kGetInfo: out = kGetInfoReqSize; return true;
    default: return false;
  }
}

}  // namespace mamori::vtpm::protocol::swtpm
