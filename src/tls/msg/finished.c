/* Finished (RFC 8446 4.4.4). */
#include "base/mem.h"
#include "tls/msg/msg.h"

moat_err fin_build(moat_conn *conn, builder *b, const uint8_t *fin_key) {
  handshake *hs = conn->hs;
  uint8_t hash[HASH_MAX_LEN], verify[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash) ||
      !ks_verify_data(&hs->ks, fin_key, hash, verify)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  conn_note_finished(conn, !conn->is_server, verify, hs->ks.hash->len);
  msg_open(b, HT_FINISHED);
  bld_bytes(b, verify, hs->ks.hash->len);
  msg_close(b);
  moat_wipe(verify, sizeof(verify));
  if (!bld_finish(b)) {
    return conn_fail(conn, MOAT_ERR_INTERNAL, "building Finished");
  }
  return MOAT_OK;
}

moat_err fin_check(moat_conn *conn, cursor body, const uint8_t *fin_key) {
  handshake *hs = conn->hs;
  uint8_t hash[HASH_MAX_LEN], verify[HASH_MAX_LEN];
  if (cur_len(&body) != hs->ks.hash->len) {
    return conn_fail(conn, MOAT_ERR_DECODE_ERROR,
                     "Finished has %zu bytes, expected %zu", cur_len(&body),
                     hs->ks.hash->len);
  }
  if (!hs_transcript_hash(conn, hash) ||
      !ks_verify_data(&hs->ks, fin_key, hash, verify)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  bool ok = ct_eq(verify, cur_data(&body), hs->ks.hash->len);
  moat_wipe(verify, sizeof(verify));
  if (!ok) {
    return conn_fail(conn, MOAT_ERR_DECRYPT_ERROR,
                     "the peer's Finished does not match the handshake");
  }
  conn_note_finished(conn, conn->is_server, cur_data(&body), cur_len(&body));
  hs->proof_finished = true;
  return MOAT_OK;
}

/* RFC 5246 7.4.9: verify_data = PRF(master_secret, finished_label,
 * Hash(handshake_messages))[0..11]. */
moat_err fin12_compute(moat_conn *conn, bool client, uint8_t out[12]) {
  handshake *hs = conn->hs;
  const hash_alg *h = hash_get(conn->suite->hash);
  uint8_t hash[HASH_MAX_LEN];
  if (!hs_transcript_hash(conn, hash) ||
      !tls12_prf(h, hs->ks.hmac, hs->master, sizeof(hs->master),
                 client ? "client finished" : "server finished", hash, h->len,
                 NULL, 0, out, 12)) {
    return conn_fail(conn, MOAT_ERR_CRYPTO, "computing Finished");
  }
  return MOAT_OK;
}
