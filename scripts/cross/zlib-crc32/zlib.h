/* The subset of zlib's API that fxic uses (crc32), for cross and wasm builds
 * whose toolchain has no zlib (FXIC_CRC32_SHIM). Same signature and result
 * as zlib's crc32(): CRC-32/ISO-HDLC, reflected polynomial 0xedb88320. The
 * conformance suite checks it: every reference bitstream ends with zlib's
 * crc32 and must be reproduced byte for byte. */
#ifndef FXIC_ZLIB_CRC32_SHIM_H_
#define FXIC_ZLIB_CRC32_SHIM_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned char Bytef;
typedef unsigned int uInt;
typedef unsigned long uLong;

#ifndef Z_NULL
#define Z_NULL 0
#endif

/* crc32(0, Z_NULL, 0) is 0, the initial value; crc32(crc, buf, len) extends
 * crc over len bytes. */
uLong crc32(uLong crc, const Bytef* buf, uInt len);

#ifdef __cplusplus
}
#endif

#endif /* FXIC_ZLIB_CRC32_SHIM_H_ */
