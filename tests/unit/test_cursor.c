#include "base/builder.h"
#include "base/cursor.h"
#include "base/mem.h"
#include "moat.h"
#include "t.h"

static void test_ints(void) {
  static const uint8_t d[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  cursor c = cur_make(d, sizeof(d));
  uint8_t a;
  uint16_t b;
  uint32_t x;
  CHECK(cur_u8(&c, &a) && a == 1);
  CHECK(cur_u16(&c, &b) && b == 0x0203);
  CHECK(cur_u24(&c, &x) && x == 0x040506);
  CHECK(cur_u32(&c, &x) && x == 0x0708090a);
  CHECK(cur_done(&c));
  CHECK(!cur_u8(&c, &a));
}

static void test_prefixed(void) {
  static const uint8_t ok[] = {0x00, 0x02, 0xaa, 0xbb, 0xcc};
  cursor c = cur_make(ok, sizeof(ok)), child;
  CHECK(cur_prefixed16(&c, &child));
  CHECK(cur_len(&child) == 2 && child.p[0] == 0xaa);
  CHECK(cur_len(&c) == 1);
  static const uint8_t bad[] = {0x00, 0x05, 0xaa};
  c = cur_make(bad, sizeof(bad));
  CHECK(!cur_prefixed16(&c, &child));
  CHECK(cur_len(&c) == 3); /* failed reads do not move */
  static const uint8_t bad24[] = {0xff, 0xff, 0xff, 0x01};
  c = cur_make(bad24, sizeof(bad24));
  CHECK(!cur_prefixed24(&c, &child));
}

static void test_der(void) {
  /* SEQUENCE { INTEGER 5, BOOLEAN TRUE } */
  static const uint8_t seq[] = {0x30, 0x06, 0x02, 0x01, 0x05, 0x01, 0x01, 0xff};
  cursor c = cur_make(seq, sizeof(seq)), in;
  uint64_t v;
  bool bv;
  CHECK(cur_asn1(&c, &in, ASN1_SEQUENCE) && cur_done(&c));
  CHECK(cur_asn1_u64(&in, &v) && v == 5);
  CHECK(cur_asn1_bool(&in, &bv) && bv);
  CHECK(cur_done(&in));
  /* indefinite length */
  static const uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
  c = cur_make(indef, sizeof(indef));
  CHECK(!cur_asn1(&c, &in, ASN1_SEQUENCE));
  /* non-minimal length: 0x81 0x05 */
  static const uint8_t nonmin[] = {0x04, 0x81, 0x01, 0xaa};
  c = cur_make(nonmin, sizeof(nonmin));
  CHECK(!cur_asn1(&c, &in, ASN1_OCTET_STRING));
  /* non-minimal integer */
  static const uint8_t badint[] = {0x02, 0x02, 0x00, 0x05};
  c = cur_make(badint, sizeof(badint));
  CHECK(!cur_asn1_u64(&c, &v));
  /* DER boolean must be 0xff */
  static const uint8_t badbool[] = {0x01, 0x01, 0x01};
  c = cur_make(badbool, sizeof(badbool));
  CHECK(!cur_asn1_bool(&c, &bv));
  /* length past the end */
  static const uint8_t over[] = {0x04, 0x05, 0x01};
  c = cur_make(over, sizeof(over));
  CHECK(!cur_asn1(&c, &in, ASN1_OCTET_STRING));
  /* wrong tag leaves the cursor where it was */
  c = cur_make(seq, sizeof(seq));
  CHECK(!cur_asn1(&c, &in, ASN1_SET) && cur_len(&c) == sizeof(seq));
}

static void test_builder(void) {
  uint8_t buf[16];
  builder b;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(bld_u8(&b, 0x16));
  CHECK(bld_open16(&b));
  CHECK(bld_open8(&b));
  CHECK(bld_bytes(&b, (const uint8_t *)"abc", 3));
  CHECK(bld_close(&b));
  CHECK(bld_close(&b));
  CHECK(bld_finish(&b));
  static const uint8_t want[] = {0x16, 0x00, 0x04, 0x03, 'a', 'b', 'c'};
  CHECK(bld_len(&b) == sizeof(want) && memcmp(buf, want, sizeof(want)) == 0);
  /* overflow of a fixed buffer is sticky */
  bld_init_fixed(&b, buf, 2);
  CHECK(!bld_u24(&b, 1));
  CHECK(!bld_u8(&b, 1));
  CHECK(!bld_finish(&b));
  /* an unclosed prefix is not finished */
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(bld_open8(&b));
  CHECK(!bld_finish(&b));
  /* a child longer than its prefix can say fails */
  builder g;
  CHECK(bld_init_alloc(&g, 4));
  CHECK(bld_open8(&g));
  CHECK(bld_zeros(&g, 300));
  CHECK(!bld_close(&g));
  bld_cleanup(&g);
  /* DER long length */
  CHECK(bld_init_alloc(&g, 4));
  CHECK(bld_open_asn1(&g, ASN1_OCTET_STRING));
  CHECK(bld_zeros(&g, 200));
  CHECK(bld_close_asn1(&g));
  CHECK(bld_finish(&g));
  cursor c = cur_make(bld_data(&g), bld_len(&g)), in;
  CHECK(cur_asn1(&c, &in, ASN1_OCTET_STRING) && cur_len(&in) == 200);
  bld_cleanup(&g);
}

static void test_unreserve(void) {
  uint8_t buf[16];
  builder b;
  uint8_t *p;
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(bld_open8(&b) && bld_space(&b, 6, &p));
  memcpy(p, "abc", 3);
  CHECK(bld_unreserve(&b, 3) && bld_close(&b) && bld_finish(&b));
  CHECK(bld_len(&b) == 4 && buf[0] == 3 && memcmp(buf + 1, "abc", 3) == 0);
  /* not past the start of the open prefix */
  bld_init_fixed(&b, buf, sizeof(buf));
  CHECK(bld_u8(&b, 1) && bld_open8(&b) && bld_u8(&b, 2));
  CHECK(!bld_unreserve(&b, 2));
  CHECK(!bld_finish(&b));
}

/* bld_reset: a failed, half-open builder starts over with the same
 * buffer, and the old bytes are wiped. */
static void test_reset(void) {
  builder b;
  CHECK(bld_init_alloc(&b, 8));
  CHECK(bld_u8(&b, 7) && bld_open16(&b) &&
        bld_bytes(&b, (const uint8_t *)"xy", 2));
  bld_reset(&b); /* with the 16-bit prefix still open */
  CHECK(bld_len(&b) == 0);
  CHECK(bld_data(&b)[0] == 0 && bld_data(&b)[3] == 0); /* wiped */
  CHECK(bld_open8(&b) && bld_bytes(&b, (const uint8_t *)"abc", 3) &&
        bld_close(&b) && bld_finish(&b));
  CHECK(bld_len(&b) == 4 && bld_data(&b)[0] == 3 &&
        memcmp(bld_data(&b) + 1, "abc", 3) == 0);
  /* a failure is cleared too */
  bld_reset(&b);
  CHECK(!bld_unreserve(&b, 1)); /* nothing reserved: fails, sticky */
  CHECK(!bld_finish(&b));
  bld_reset(&b);
  CHECK(bld_u16(&b, 0x0102) && bld_finish(&b) && bld_len(&b) == 2);
  bld_cleanup(&b);
}

static void test_ct(void) {
  uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4};
  CHECK(ct_eq(a, b, 4));
  b[3] = 5;
  CHECK(!ct_eq(a, b, 4));
  moat_wipe(a, 4);
  CHECK(a[0] == 0 && a[3] == 0);
  /* Every length up to 40 (whole words and tails), one bit flipped at
   * every position, including the high bits of each word. */
  uint8_t x[40], y[40];
  for (size_t n = 0; n <= sizeof(x); n++) {
    for (size_t i = 0; i < n; i++) {
      x[i] = y[i] = (uint8_t)(i * 37 + n);
    }
    CHECK(ct_eq(x, y, n));
    for (size_t i = 0; i < n; i++) {
      for (int bit = 0; bit < 8; bit++) {
        y[i] ^= (uint8_t)(1u << bit);
        CHECK(!ct_eq(x, y, n));
        y[i] ^= (uint8_t)(1u << bit);
      }
    }
    /* a difference just past the end does not count */
    if (n < sizeof(x)) {
      x[n] = 0x00;
      y[n] = 0x80;
      CHECK(ct_eq(x, y, n));
      y[n] = 0x00;
    }
  }
}

static void *no_malloc(size_t n, void *arg) {
  (void)n;
  (void)arg;
  return NULL;
}
static void *no_realloc(void *p, size_t n, void *arg) {
  (void)p;
  (void)n;
  (void)arg;
  return NULL;
}
static void no_free(void *p, void *arg) {
  (void)p;
  (void)arg;
}

/* Run first: a block from moat_realloc(NULL, n) is moat's first
 * allocation, and the allocator can no longer change (the block would be
 * freed through the new one). */
static void test_allocator_after_realloc(void) {
  void *p = moat_realloc(NULL, 16);
  CHECK(p != NULL);
  moat_allocator a = {no_malloc, no_realloc, no_free, NULL};
  CHECK_EQ_INT(moat_set_allocator(&a), MOAT_ERR_BAD_STATE);
  moat_free(p);
}

int main(void) {
  test_allocator_after_realloc();
  test_ints();
  test_prefixed();
  test_der();
  test_builder();
  test_unreserve();
  test_reset();
  test_ct();
  return t_done("cursor");
}
