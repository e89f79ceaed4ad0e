/* CompressedCertificate (RFC 8879 4): a Certificate message's body,
 * compressed, with its algorithm and uncompressed length. */
#include "base/mem.h"
#include "compress/compress.h"
#include "tls/msg/msg.h"

_Static_assert(COMPRESS_MAX_OUTPUT == TLS_MAX_HANDSHAKE_MSG,
               "a decompressed Certificate is held to the handshake limit");

/* The shortest Certificate body (RFC 8446 4.4.2): an empty
 * certificate_request_context and an empty certificate_list. */
#define CERT_BODY_MIN 4

moat_err ccert_parse(cursor body, const uint16_t *offered, size_t num_offered,
                     compressed_cert *out, tls_cause *why) {
  uint16_t alg;
  uint32_t len;
  cursor data;
  if (!cur_u16(&body, &alg) || !cur_u24(&body, &len) ||
      !cur_prefixed24(&body, &data) || !cur_done(&body) || cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed CompressedCertificate");
  }
  /* RFC 8879 4: the algorithm must be one we listed. */
  if (!ext_code_listed(offered, num_offered, alg)) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the peer compressed its certificate with algorithm "
                     "%u, which was not offered",
                     alg);
  }
  if (len < CERT_BODY_MIN) {
    return cause_set(why, MOAT_ERR_BAD_CERTIFICATE,
                     "CompressedCertificate announces %u bytes, too few "
                     "for a Certificate message",
                     (unsigned)len);
  }
  /* RFC 8879 4 allows up to 2^24-1; moat accepts no more than it would
   * accept uncompressed. */
  if (len > TLS_MAX_HANDSHAKE_MSG) {
    return cause_set(why, MOAT_ERR_BAD_CERTIFICATE,
                     "CompressedCertificate announces %u bytes, over moat's "
                     "limit of %d",
                     (unsigned)len, TLS_MAX_HANDSHAKE_MSG);
  }
  out->algorithm = alg;
  out->uncompressed_len = len;
  out->data = data;
  return MOAT_OK;
}

moat_err ccert_expand(const compressed_cert *m, uint8_t **out_body,
                      tls_cause *why) {
  *out_body = NULL;
  const compress_alg *alg = compress_get(m->algorithm);
  if (alg == NULL || m->uncompressed_len > TLS_MAX_HANDSHAKE_MSG) {
    return cause_set(why, MOAT_ERR_INTERNAL,
                     "CompressedCertificate was not parsed first");
  }
  uint8_t *buf = moat_malloc(m->uncompressed_len);
  if (buf == NULL) {
    return cause_set(why, MOAT_ERR_NO_MEMORY,
                     "no memory to decompress a certificate");
  }
  compress_status s =
      compress_expand(alg, cur_data(&m->data), cur_len(&m->data),
                      m->uncompressed_len, buf, m->uncompressed_len);
  if (s != COMPRESS_OK) {
    moat_free(buf);
    /* RFC 8879 4: a message that does not decompress, or not to the
     * announced length, is bad_certificate. */
    return cause_set(
        why,
        s == COMPRESS_INTERNAL ? MOAT_ERR_NO_MEMORY : MOAT_ERR_BAD_CERTIFICATE,
        "CompressedCertificate (%s, %u bytes announced): %s", alg->name,
        (unsigned)m->uncompressed_len, compress_status_text(s));
  }
  *out_body = buf;
  return MOAT_OK;
}

moat_err ccert_build(builder *b, uint16_t alg, const uint8_t *cert_body,
                     size_t len, tls_cause *why) {
  const compress_alg *a = compress_get(alg);
  if (a == NULL) {
    return cause_set(why, MOAT_ERR_INTERNAL,
                     "certificate compression algorithm %u is not built in",
                     alg);
  }
  if (len < CERT_BODY_MIN || len > TLS_MAX_HANDSHAKE_MSG) {
    return cause_set(why, MOAT_ERR_INTERNAL,
                     "a Certificate body of %zu bytes cannot be compressed",
                     len);
  }
  msg_open(b, HT_COMPRESSED_CERTIFICATE);
  bld_u16(b, alg);
  bld_u24(b, (uint32_t)len);
  bld_open24(b);
  bool ok = compress_data(a, cert_body, len, b);
  bld_close(b);
  msg_close(b);
  if (!ok || !bld_finish(b)) {
    return cause_set(why, MOAT_ERR_INTERNAL,
                     "compressing the certificate with %s failed", a->name);
  }
  return MOAT_OK;
}

bool ccert_build_raw(builder *b, uint16_t alg, size_t uncompressed_len,
                     const uint8_t *data, size_t len) {
  if (uncompressed_len < CERT_BODY_MIN ||
      uncompressed_len > TLS_MAX_HANDSHAKE_MSG || len == 0) {
    return false;
  }
  msg_open(b, HT_COMPRESSED_CERTIFICATE);
  bld_u16(b, alg);
  bld_u24(b, (uint32_t)uncompressed_len);
  bld_open24(b);
  bld_bytes(b, data, len);
  bld_close(b);
  msg_close(b);
  return bld_finish(b);
}
