// Small host helpers: whole-file I/O (atomic replace, private mode), hex,
// VM-id parsing.
#pragma once
#include <stdint.h>

#include <string>
#include <vector>

#include "vtpm/migration/format/limits.hpp"

namespace mamori::vtpm::migration {

using Bytes = std::vector<uint8_t>;

// Reads at most `limit` bytes; a larger file is refused (kMalformed) before
// it is read into memory.
Bytes read_file(const std::string& path, size_t limit);
// Writes via a temporary file and rename(2), mode 0600, fsync'ed: a crash
// leaves either the old or the new content.
void write_file_atomic(const std::string& path, const Bytes& data);
bool file_exists(const std::string& path);
void remove_file(const std::string& path);
void make_dirs(const std::string& path);

std::string to_hex(const uint8_t* p, size_t n);
inline std::string to_hex(const Bytes& b) { return to_hex(b.data(), b.size()); }
// Parses a UUID ("8-4-4-4-12" hex, dashes optional) into 16 bytes.
bool parse_vm_id(const std::string& s, uint8_t out[kVmIdSize]);
std::string format_vm_id(const uint8_t id[kVmIdSize]);

}  // namespace mamori::vtpm::migration
