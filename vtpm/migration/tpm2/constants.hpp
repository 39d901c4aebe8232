// TPM 2.0 constants this component needs, named as in TPM 2.0 Part 2
// (Structures) §6 (constants) and §8 (attribute bit fields).
#pragma once
#include <stdint.h>

namespace mamori::vtpm::migration::tpm2 {

// Part 2 §6.3 TPM_ALG_ID
inline constexpr uint16_t kAlgRsa = 0x0001;
inline constexpr uint16_t kAlgSha1 = 0x0004;
inline constexpr uint16_t kAlgHmac = 0x0005;
inline constexpr uint16_t kAlgAes = 0x0006;
inline constexpr uint16_t kAlgKeyedHash = 0x0008;
inline constexpr uint16_t kAlgXor = 0x000A;
inline constexpr uint16_t kAlgSha256 = 0x000B;
inline constexpr uint16_t kAlgSha384 = 0x000C;
inline constexpr uint16_t kAlgSha512 = 0x000D;
inline constexpr uint16_t kAlgNull = 0x0010;
inline constexpr uint16_t kAlgRsassa = 0x0014;
inline constexpr uint16_t kAlgRsaes = 0x0015;
inline constexpr uint16_t kAlgOaep = 0x0017;
inline constexpr uint16_t kAlgEcdsa = 0x0018;
inline constexpr uint16_t kAlgEcdaa = 0x001A;
inline constexpr uint16_t kAlgEcc = 0x0023;
inline constexpr uint16_t kAlgSm3_256 = 0x0012;
inline constexpr uint16_t kAlgSymCipher = 0x0025;
inline constexpr uint16_t kAlgCfb = 0x0043;

// Part 2 §6.4 TPM_ECC_CURVE
inline constexpr uint16_t kEccNistP256 = 0x0003;

// Part 2 §6.5.2 TPM_CC
inline constexpr uint32_t kCcEvictControl = 0x00000120;
inline constexpr uint32_t kCcHierarchyChangeAuth = 0x00000129;
inline constexpr uint32_t kCcNvDefineSpace = 0x0000012A;
inline constexpr uint32_t kCcNvIncrement = 0x00000134;
inline constexpr uint32_t kCcCreatePrimary = 0x00000131;
inline constexpr uint32_t kCcNvRead = 0x0000014E;
inline constexpr uint32_t kCcImport = 0x00000156;
inline constexpr uint32_t kCcLoad = 0x00000157;
inline constexpr uint32_t kCcUnseal = 0x0000015E;
inline constexpr uint32_t kCcFlushContext = 0x00000165;
inline constexpr uint32_t kCcNvReadPublic = 0x00000169;
inline constexpr uint32_t kCcPolicyCommandCode = 0x0000016C;
inline constexpr uint32_t kCcReadPublic = 0x00000173;
inline constexpr uint32_t kCcStartAuthSession = 0x00000176;
inline constexpr uint32_t kCcGetCapability = 0x0000017A;
inline constexpr uint32_t kCcGetRandom = 0x0000017B;
inline constexpr uint32_t kCcPcrRead = 0x0000017E;
inline constexpr uint32_t kCcPcrExtend = 0x00000182;
inline constexpr uint32_t kCcPolicyGetDigest = 0x00000189;

// Part 2 §6.12 TPM_CAP and §6.13 TPM_PT (PT_FIXED = 0x100 group)
inline constexpr uint32_t kCapPcrs = 0x00000005;
inline constexpr uint32_t kCapTpmProperties = 0x00000006;
inline constexpr uint32_t kPtManufacturer = 0x100 + 5;
inline constexpr uint32_t kPtVendorString1 = 0x100 + 6;  // ..4 at +9: four 4-byte ASCII chunks
inline constexpr uint32_t kPtVendorString4 = 0x100 + 9;
inline constexpr uint32_t kPtFirmwareVersion1 = 0x100 + 11;
inline constexpr uint32_t kPtFirmwareVersion2 = 0x100 + 12;
inline constexpr uint32_t kMaxTpmProperties = 127;  // MAX_CAP_BUFFER / sizeof(TPMS_TAGGED_PROPERTY), TpmProfile.h
inline constexpr uint32_t kHashCount = 16;          // bound for TPML_PCR_SELECTION.count (HASH_COUNT is smaller)
inline constexpr uint8_t kPcrSelectMax = 32;        // bound for sizeofSelect (PCR_SELECT_MAX is 3 for 24 PCRs)

// Part 2 §6.9 TPM_ST
inline constexpr uint16_t kStNoSessions = 0x8001;
inline constexpr uint16_t kStSessions = 0x8002;

// Part 2 §6.6 TPM_RC (the ones acted upon)
inline constexpr uint32_t kRcSuccess = 0x000;
inline constexpr uint32_t kRcNvDefined = 0x14C;

// Part 2 §7.4 / §7.5 handles
inline constexpr uint32_t kRhOwner = 0x40000001;
inline constexpr uint32_t kRhNull = 0x40000007;
inline constexpr uint32_t kRsPw = 0x40000009;  // password authorization session
inline constexpr uint8_t kSeHmac = 0x00;        // Part 2 §6.11 TPM_SE
inline constexpr uint8_t kSePolicy = 0x01;
inline constexpr uint32_t kNvIndexFirst = 0x01000000;  // Part 2 §7.2 TPM_HT_NV_INDEX
inline constexpr uint32_t kNvIndexLast = 0x01FFFFFF;

// Part 2 §8.3 TPMA_OBJECT
inline constexpr uint32_t kObjFixedTpm = 1u << 1;
inline constexpr uint32_t kObjFixedParent = 1u << 4;
inline constexpr uint32_t kObjSensitiveDataOrigin = 1u << 5;
inline constexpr uint32_t kObjUserWithAuth = 1u << 6;
inline constexpr uint32_t kObjNoDa = 1u << 10;
inline constexpr uint32_t kObjEncryptedDuplication = 1u << 11;
inline constexpr uint32_t kObjRestricted = 1u << 16;
inline constexpr uint32_t kObjDecrypt = 1u << 17;
inline constexpr uint32_t kObjSign = 1u << 18;

// Part 2 §13.4 TPMA_NV
inline constexpr uint32_t kNvOwnerWrite = 1u << 1;
inline constexpr uint32_t kNvAuthWrite = 1u << 2;
inline constexpr uint32_t kNvTypeMask = 0xF0;        // TPMA_NV.TPM_NT, bits 7:4
inline constexpr uint32_t kNvTypeCounter = 1u << 4;  // TPM_NT_COUNTER in bits 7:4
inline constexpr uint32_t kNvNoDa = 1u << 25;
inline constexpr uint32_t kNvOwnerRead = 1u << 17;
inline constexpr uint32_t kNvAuthRead = 1u << 18;
inline constexpr uint32_t kNvWritten = 1u << 29;

// Buffer limits from Part 2 / the reference implementation's TpmProfile.h,
// used as the maximum a TPM2B may declare when parsed.
inline constexpr uint16_t kSha256DigestSize = 32;
inline constexpr uint16_t kMaxDigestBuffer = 64;     // sizeof(TPMU_HA)
inline constexpr uint16_t kMaxRsaKeyBytes = 512;     // TPM2B_PUBLIC_KEY_RSA
inline constexpr uint16_t kMaxEccKeyBytes = 128;     // TPM2B_ECC_PARAMETER
inline constexpr uint16_t kMaxSymData = 128;         // TPM2B_SENSITIVE_DATA
inline constexpr uint16_t kMaxNameSize = 2 + kMaxDigestBuffer;  // TPM2B_NAME
inline constexpr uint16_t kMaxPublicSize = 1024;     // generous bound for TPM2B_PUBLIC
inline constexpr uint16_t kMaxPrivateSize = 1024;    // TPM2B_PRIVATE
inline constexpr uint16_t kMaxEncryptedSecret = 512; // TPM2B_ENCRYPTED_SECRET
inline constexpr uint32_t kMaxResponseSize = 4096;   // MAX_RESPONSE_SIZE

}  // namespace mamori::vtpm::migration::tpm2
