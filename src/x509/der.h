/* DER helpers on top of the bounded cursor (X.690, RFC 5280 4.1): object
 * identifiers, times, strings and text rendering shared by the X.509
 * modules. */
#ifndef MOAT_X509_DER_H
#define MOAT_X509_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cursor.h"

/* OID contents octets (no tag or length). */
#define OID_CN "\x55\x04\x03"
#define OID_SN "\x55\x04\x04"
#define OID_SERIALNUMBER "\x55\x04\x05"
#define OID_C "\x55\x04\x06"
#define OID_L "\x55\x04\x07"
#define OID_ST "\x55\x04\x08"
#define OID_STREET "\x55\x04\x09"
#define OID_O "\x55\x04\x0a"
#define OID_OU "\x55\x04\x0b"
#define OID_TITLE "\x55\x04\x0c"
#define OID_GN "\x55\x04\x2a"
#define OID_EMAIL "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"
#define OID_DC "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19"
#define OID_UID "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01"

#define OID_EXT_SKI "\x55\x1d\x0e"
#define OID_EXT_KU "\x55\x1d\x0f"
#define OID_EXT_SAN "\x55\x1d\x11"
#define OID_EXT_IAN "\x55\x1d\x12"
#define OID_EXT_BC "\x55\x1d\x13"
#define OID_EXT_CRL_NUMBER "\x55\x1d\x14"
#define OID_EXT_CRL_REASON "\x55\x1d\x15"
#define OID_EXT_DELTA_CRL "\x55\x1d\x1b"
#define OID_EXT_IDP "\x55\x1d\x1c"
#define OID_EXT_NC "\x55\x1d\x1e"
#define OID_EXT_CRLDP "\x55\x1d\x1f"
#define OID_EXT_POLICIES "\x55\x1d\x20"
#define OID_EXT_POLICY_MAPPINGS "\x55\x1d\x21"
#define OID_EXT_AKI "\x55\x1d\x23"
#define OID_EXT_POLICY_CONSTRAINTS "\x55\x1d\x24"
#define OID_EXT_EKU "\x55\x1d\x25"
#define OID_EXT_INHIBIT_ANY "\x55\x1d\x36"
#define OID_EXT_AIA "\x2b\x06\x01\x05\x05\x07\x01\x01"
#define OID_ANY_POLICY "\x55\x1d\x20\x00"

#define OID_EKU_ANY "\x55\x1d\x25\x00"
#define OID_EKU_SERVER "\x2b\x06\x01\x05\x05\x07\x03\x01"
#define OID_EKU_CLIENT "\x2b\x06\x01\x05\x05\x07\x03\x02"
#define OID_EKU_OCSP_SIGNING "\x2b\x06\x01\x05\x05\x07\x03\x09"
#define OID_AD_OCSP "\x2b\x06\x01\x05\x05\x07\x30\x01"
#define OID_OCSP_BASIC "\x2b\x06\x01\x05\x05\x07\x30\x01\x01"
#define OID_OCSP_NONCE "\x2b\x06\x01\x05\x05\x07\x30\x01\x02"
#define OID_AD_CA_ISSUERS "\x2b\x06\x01\x05\x05\x07\x30\x02"

#define OID_RSA "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
#define OID_RSA_MD5 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04"
#define OID_RSA_SHA1 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"
#define OID_MGF1 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08"
#define OID_RSA_PSS "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"
#define OID_RSA_SHA256 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"
#define OID_RSA_SHA384 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c"
#define OID_RSA_SHA512 "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d"
#define OID_EC_PUBKEY "\x2a\x86\x48\xce\x3d\x02\x01"
#define OID_ECDSA_SHA1 "\x2a\x86\x48\xce\x3d\x04\x01"
#define OID_ECDSA_SHA256 "\x2a\x86\x48\xce\x3d\x04\x03\x02"
#define OID_ECDSA_SHA384 "\x2a\x86\x48\xce\x3d\x04\x03\x03"
#define OID_ECDSA_SHA512 "\x2a\x86\x48\xce\x3d\x04\x03\x04"
#define OID_ED25519 "\x2b\x65\x70"
#define OID_ED448 "\x2b\x65\x71"
#define OID_P256 "\x2a\x86\x48\xce\x3d\x03\x01\x07"
#define OID_P384 "\x2b\x81\x04\x00\x22"
#define OID_P521 "\x2b\x81\x04\x00\x23"
#define OID_SHA1 "\x2b\x0e\x03\x02\x1a"
#define OID_SHA256 "\x60\x86\x48\x01\x65\x03\x04\x02\x01"
#define OID_SHA384 "\x60\x86\x48\x01\x65\x03\x04\x02\x02"
#define OID_SHA512 "\x60\x86\x48\x01\x65\x03\x04\x02\x03"

/* True when the OID contents in c equal the constant. */
#define OID_IS(c, oid) cur_equal((c), (const uint8_t *)(oid), sizeof(oid) - 1)

/* A well-formed OID body (X.690 8.19: minimal base-128 subidentifiers). */
bool der_oid_valid(const cursor *oid);
/* Reads an OBJECT IDENTIFIER and checks its body. */
bool der_read_oid(cursor *c, cursor *out);
/* Dotted text ("1.2.840.113549"); returns the full length needed. */
size_t der_oid_text(const cursor *oid, char *out, size_t cap);

/* RFC 5280 4.1.2.5: UTCTime (YYMMDDHHMMSSZ, 50..99 -> 19xx) or
 * GeneralizedTime (YYYYMMDDHHMMSSZ), seconds since the epoch.  Any other
 * form (fractions, offsets, missing seconds) is refused. */
bool der_read_time(cursor *c, int64_t *out);
/* Seconds since the epoch for a civil UTC date and time. */
int64_t der_civil_to_time(int64_t y, unsigned mon, unsigned d, unsigned h,
                          unsigned mi, unsigned s);
/* "2024-01-01 00:00:00 UTC". */
void der_time_text(int64_t t, char *out, size_t cap);

/* One Extension (RFC 5280 4.1) of an Extensions body: extnID, critical
 * (DEFAULT FALSE, so an encoded FALSE is refused), extnValue contents. */
bool der_next_extension(cursor *list, cursor *oid, bool *critical,
                        cursor *value);

/* A string-typed value (PrintableString, UTF8String, IA5String, ...):
 * true for the directory string tags. */
bool der_is_string_tag(uint8_t tag);

/* Appends to a bounded text buffer; tracks the full length wanted. */
typedef struct text_buf {
  char *out;
  size_t cap;
  size_t len; /* full length wanted, may exceed cap */
} text_buf;
void tb_init(text_buf *tb, char *out, size_t cap);
void tb_putc(text_buf *tb, char ch);
void tb_puts(text_buf *tb, const char *s);
void tb_putn(text_buf *tb, const char *s, size_t n);
void tb_printf(text_buf *tb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Bytes as hex with an optional separator (0 for none). */
void tb_hex(text_buf *tb, const uint8_t *p, size_t n, char sep);

#endif
