#pragma once
namespace mamori {
inline constexpr const char* kVersion = MAMORI_VERSION;
inline constexpr const char* kBuildFlavor = "x86_64 VT-x/EPT";
}  // namespace mamori
