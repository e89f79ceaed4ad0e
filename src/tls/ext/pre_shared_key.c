/* pre_shared_key and psk_key_exchange_modes (RFC 8446 4.2.9, 4.2.11):
 * resumption with tickets, PSK with (EC)DHE only. */
#include <string.h>

#include "base/mem.h"
#include "tls/ext/ext.h"

bool ext_psk_build_ch(moat_conn *conn, builder *b) {
  const moat_session *s = conn->session;
  size_t hlen = hash_get(s->suite->hash)->len;
  /* RFC 8446 4.2.11.1: ticket age in milliseconds plus age_add. */
  int64_t age_s = ctx_now(conn->ctx) - s->created;
  uint32_t age_ms = age_s > 0 ? (uint32_t)(age_s * 1000) : 0;
  bld_u16(b, EXT_PRE_SHARED_KEY); /* must be the last extension */
  bld_open16(b);
  bld_open16(b); /* identities */
  bld_open16(b);
  bld_bytes(b, s->ticket, s->ticket_len);
  bld_close(b);
  bld_u32(b, age_ms + s->age_add);
  bld_close(b);
  bld_open16(b); /* binders, filled in by ext_psk_patch_binder */
  bld_open8(b);
  bld_zeros(b, hlen);
  bld_close(b);
  bld_close(b);
  return bld_close(b);
}

/* Transcript-Hash over what precedes the truncated ClientHello (after a
 * HelloRetryRequest: message_hash and the retry) and the truncated
 * ClientHello itself (RFC 8446 4.2.11.2).  in_place: the transcript
 * itself takes the truncated bytes, so that the ClientHello is hashed
 * once; the caller then adds only the rest. */
static bool truncated_hash(moat_conn *conn, const hash_alg *h,
                           const uint8_t *msg, size_t trunc_len, uint8_t *out,
                           bool in_place) {
  handshake *hs = conn->hs;
  if (in_place) {
    return hs->transcript != NULL && hash_ctx_alg(hs->transcript) == h &&
           hash_update(hs->transcript, msg, trunc_len) &&
           hash_peek(hs->transcript, out);
  }
  if (hs->transcript == NULL) {
    return hash_oneshot(h, msg, trunc_len, out);
  }
  hash_ctx *copy = hash_new(h);
  bool ok = copy != NULL && hash_copy(copy, hs->transcript) &&
            hash_update(copy, msg, trunc_len) && hash_final(copy, out);
  hash_free(copy);
  return ok;
}

moat_err ext_psk_patch_binder(moat_conn *conn, uint8_t *msg, size_t len) {
  handshake *hs = conn->hs;
  const hash_alg *h = hs->ks.hash;
  size_t tail = 2 + 1 + h->len; /* binders list: one binder */
  uint8_t th[HASH_MAX_LEN];
  if (len < tail + 4) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "ClientHello too short");
  }
  /* ClientHello1 starts a transcript with the PSK's hash, which the
   * ServerHello usually confirms (start_transcript checks); a retry's
   * ClientHello goes through hs_send, which adds it whole. */
  bool in_place = hs->transcript == NULL;
  if (in_place) {
    TRY(hs_transcript_start(conn, h, NULL, 0, false));
  }
  if (!truncated_hash(conn, h, msg, len - tail, th, in_place) ||
      !psk_binder(&hs->ks, th, msg + len - h->len) ||
      (in_place && !hash_update(hs->transcript, msg + len - tail, tail))) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing the PSK binder");
  }
  return MOAT_OK;
}

moat_err ext_psk_modes_parse(moat_conn *conn, cursor data, bool *out_dhe) {
  cursor modes;
  *out_dhe = false;
  if (!cur_prefixed8(&data, &modes) || !cur_done(&data) || cur_done(&modes)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "malformed psk_key_exchange_modes");
  }
  uint8_t m;
  while (cur_u8(&modes, &m)) {
    *out_dhe |= m == PSK_DHE_KE;
  }
  return MOAT_OK;
}

moat_err ext_psk_accept(moat_conn *conn, const ext_set *ext, cursor whole,
                        const tls_suite *suite) {
  handshake *hs = conn->hs;
  if (!ext_has(ext, X_PRE_SHARED_KEY)) {
    return MOAT_OK;
  }
  /* RFC 8446 4.2.9: pre_shared_key needs psk_key_exchange_modes. */
  if (!ext_has(ext, X_PSK_KEY_EXCHANGE_MODES)) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "pre_shared_key without psk_key_exchange_modes");
  }
  bool dhe;
  TRY(ext_psk_modes_parse(conn, ext->data[X_PSK_KEY_EXCHANGE_MODES], &dhe));
  cursor psk = ext->data[X_PRE_SHARED_KEY], ids, binders;
  if (!cur_prefixed16(&psk, &ids) || !cur_prefixed16(&psk, &binders) ||
      !cur_done(&psk) || cur_done(&ids) || cur_done(&binders)) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR, "malformed pre_shared_key");
  }
  /* The binders are the last bytes of the ClientHello. */
  size_t tail = 2 + cur_len(&binders);
  if (cur_data(&binders) + cur_len(&binders) !=
      cur_data(&whole) + cur_len(&whole)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "pre_shared_key is not the last extension");
  }
  const hash_alg *h = hash_get(suite->hash);
  uint16_t index = 0;
  while (!cur_done(&ids)) {
    cursor id, binder;
    uint32_t age;
    if (!cur_prefixed16(&ids, &id) || !cur_u32(&ids, &age) || cur_done(&id) ||
        !cur_prefixed8(&binders, &binder) || cur_len(&binder) < 32) {
      return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                       "malformed PSK identity or binder %u", index);
    }
    moat_session st;
    memset(&st, 0, sizeof(st));
    if (dhe && !hs->psk_accepted &&
        ticket_open(conn, cur_data(&id), cur_len(&id), &st) &&
        st.version == MOAT_TLS1_3 && hash_get(st.suite->hash) == h) {
      uint8_t th[HASH_MAX_LEN], want[HASH_MAX_LEN];
      if (!ks_init(&hs->ks, h, st.psk, st.psk_len) ||
          !truncated_hash(conn, h, cur_data(&whole), cur_len(&whole) - tail, th,
                          hs->ch_prefix_len == 0) ||
          !psk_binder(&hs->ks, th, want)) {
        moat_wipe(want, sizeof(want));
        moat_wipe(&st, sizeof(st));
        return conn_fail(conn, MOAT_ERR_CRYPTO, "checking a PSK binder");
      }
      bool ok =
          cur_len(&binder) == h->len && ct_eq(want, cur_data(&binder), h->len);
      moat_wipe(want, sizeof(want)); /* proves the PSK for this hello */
      if (!ok) {
        moat_wipe(&st, sizeof(st));
        /* RFC 8446 4.2.11: a binder that does not verify is fatal. */
        return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                         "the PSK binder for identity %u is wrong", index);
      }
      hs->ch_prefix_len = cur_len(&whole) - tail;
      hs->psk_accepted = true;
      hs->psk_index = index;
      hs->psk_state = st;
    }
    moat_wipe(&st, sizeof(st));
    index++;
  }
  if (!cur_done(&binders)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "pre_shared_key has more binders than identities");
  }
  return MOAT_OK;
}
