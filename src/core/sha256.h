/* sha256.h — SHA-256 (FIPS 180-4) of a byte string (sha256.c): the hash a
 * Content-Security-Policy names an inline script or style by. */
#ifndef MSL_SHA256_H
#define MSL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
/* Base64 of a digest (44 characters) and its NUL. */
#define SHA256_BASE64_SIZE 45

void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_DIGEST_LEN]);

/* The digest of data in standard base64 with padding, as CSP writes it
 * ('sha256-' followed by it). */
void sha256_base64(const void *data, size_t len, char out[SHA256_BASE64_SIZE]);

#endif
