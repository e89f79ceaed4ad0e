/* The bounded cursor: the only way moat reads bytes it did not make.
 *
 * A cursor is a pointer and a remaining length.  Every read checks the
 * length first and returns false without moving when it would overrun.  A
 * child cursor taken with a prefixed read must be consumed exactly
 * (cur_done) by its parser. */
#ifndef MOAT_BASE_CURSOR_H
#define MOAT_BASE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cursor {
  const uint8_t *p;
  size_t n;
} cursor;

static inline cursor cur_make(const uint8_t *p, size_t n) {
  cursor c = {p, n};
  return c;
}
static inline void cur_init(cursor *c, const uint8_t *p, size_t n) {
  c->p = p;
  c->n = n;
}
static inline size_t cur_len(const cursor *c) {
  return c->n;
}
static inline const uint8_t *cur_data(const cursor *c) {
  return c->p;
}
static inline bool cur_done(const cursor *c) {
  return c->n == 0;
}

bool cur_u8(cursor *c, uint8_t *out);
bool cur_u16(cursor *c, uint16_t *out);
bool cur_u24(cursor *c, uint32_t *out);
bool cur_u32(cursor *c, uint32_t *out);
bool cur_u64(cursor *c, uint64_t *out);
bool cur_skip(cursor *c, size_t n);
/* A slice of n bytes (pointer into the input). */
bool cur_bytes(cursor *c, size_t n, const uint8_t **out);
/* n bytes as a child cursor. */
bool cur_sub(cursor *c, size_t n, cursor *child);
bool cur_copy(cursor *c, uint8_t *out, size_t n);
/* Length-prefixed child (8, 16 or 24-bit big-endian length). */
bool cur_prefixed8(cursor *c, cursor *child);
bool cur_prefixed16(cursor *c, cursor *child);
bool cur_prefixed24(cursor *c, cursor *child);
/* Peek without moving. */
bool cur_peek_u8(const cursor *c, uint8_t *out);

/* Strict DER (X.690 10): single-byte tags only (low tag number form),
 * definite minimal lengths, no value past the end.  Tags are the raw
 * identifier octet: 0x30 SEQUENCE, 0x02 INTEGER, 0xa0 [0] constructed. */
#define ASN1_BOOLEAN 0x01
#define ASN1_INTEGER 0x02
#define ASN1_BIT_STRING 0x03
#define ASN1_OCTET_STRING 0x04
#define ASN1_NULL 0x05
#define ASN1_OID 0x06
#define ASN1_ENUMERATED 0x0a
#define ASN1_UTF8STRING 0x0c
#define ASN1_PRINTABLESTRING 0x13
#define ASN1_T61STRING 0x14
#define ASN1_IA5STRING 0x16
#define ASN1_UTCTIME 0x17
#define ASN1_GENERALIZEDTIME 0x18
#define ASN1_UNIVERSALSTRING 0x1c
#define ASN1_BMPSTRING 0x1e
#define ASN1_SEQUENCE 0x30
#define ASN1_SET 0x31
#define ASN1_CONTEXT(n) (0x80 | (n))
#define ASN1_CONTEXT_CONS(n) (0xa0 | (n))

/* Reads one element with the given tag; child is its contents. */
bool cur_asn1(cursor *c, cursor *child, uint8_t tag);
/* Reads one element of any tag. */
bool cur_asn1_any(cursor *c, cursor *child, uint8_t *out_tag);
/* Reads one element with the given tag; child is header plus contents. */
bool cur_asn1_element(cursor *c, cursor *child, uint8_t tag);
/* Reads an optional element: *out_present says whether it was there. */
bool cur_asn1_optional(cursor *c, cursor *child, bool *out_present,
                       uint8_t tag);
/* True when the next element has this tag. */
bool cur_peek_asn1(const cursor *c, uint8_t tag);
/* A non-negative INTEGER that fits in 64 bits (strict minimal encoding). */
bool cur_asn1_u64(cursor *c, uint64_t *out);
/* An INTEGER's contents, checked for minimal encoding (may be negative). */
bool cur_asn1_integer(cursor *c, cursor *out_contents);
/* BOOLEAN in DER (0x00 or 0xff). */
bool cur_asn1_bool(cursor *c, bool *out);
/* BIT STRING with no unused bits (keys, signatures). */
bool cur_asn1_bitstring_bytes(cursor *c, cursor *out);

/* Byte-wise comparison of the remaining contents with a constant. */
bool cur_equal(const cursor *c, const uint8_t *data, size_t len);

#endif
