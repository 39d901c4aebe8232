// GNU-EFI headers for C++ translation units of the loader.
#pragma once
extern "C" {
#include <efi.h>
#include <efilib.h>
}

// GNU-EFI's CHAR16 is a 16-bit integer; C++ string literals u"..." are
// char16_t. Same representation (UEFI 2.9 §2.3.1: UCS-2), distinct types.
#define W(s) (reinterpret_cast<CHAR16*>(const_cast<char16_t*>(u"" s)))
