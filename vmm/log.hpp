// Levelled log lines: "[<tsc>] cpu<N> <LEVEL> <message>".
// The TSC timestamp is raw ticks (calibrated frequency printed at boot).
#pragma once
#include <stdint.h>

namespace mamori::log {

enum class Level : uint8_t { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_level(Level l);
Level level();
const char* name(Level l);
// Parses "debug" / "info" / "warn" / "error"; false if unknown.
bool parse_level(const char* s, Level& out);
void write(Level l, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace mamori::log

#define LOG_DEBUG(...) ::mamori::log::write(::mamori::log::Level::Debug, __VA_ARGS__)
#define LOG_INFO(...) ::mamori::log::write(::mamori::log::Level::Info, __VA_ARGS__)
#define LOG_WARN(...) ::mamori::log::write(::mamori::log::Level::Warn, __VA_ARGS__)
#define LOG_ERROR(...) ::mamori::log::write(::mamori::log::Level::Error, __VA_ARGS__)
