/* pre_shared_key (RFC 8446 4.2.11): resumption with tickets.  The
 * binders are the flow's (they hash the transcript and need the PSK);
 * this file only writes and reads the extension. */
#include "tls/ext/ext.h"

bool ext_psk_build_ch(builder *b, const uint8_t *ticket, size_t ticket_len,
                      uint32_t obfuscated_age, size_t binder_len) {
  bld_open16(b); /* identities */
  bld_open16(b);
  bld_bytes(b, ticket, ticket_len);
  bld_close(b);
  bld_u32(b, obfuscated_age);
  bld_close(b);
  bld_open16(b); /* binders, filled in by the flow */
  bld_open8(b);
  bld_zeros(b, binder_len);
  bld_close(b);
  return bld_close(b);
}

bool ext_psk_build_sh(builder *b, uint16_t index) {
  return bld_u16(b, index);
}

moat_err ext_psk_parse_sh(cursor data, uint16_t *out_selected, tls_cause *why) {
  if (!cur_u16(&data, out_selected) || !cur_done(&data)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed pre_shared_key in ServerHello");
  }
  return MOAT_OK;
}

/* OfferedPsks: two non-empty lists (RFC 8446 4.2.11). */
static moat_err offered_psks(cursor data, ext_psk_offer *out, tls_cause *why) {
  if (!cur_prefixed16(&data, &out->ids) ||
      !cur_prefixed16(&data, &out->binders) || !cur_done(&data) ||
      cur_done(&out->ids) || cur_done(&out->binders)) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR, "malformed pre_shared_key");
  }
  return MOAT_OK;
}

moat_err ext_psk_parse_ch(cursor data, cursor whole, ext_psk_offer *out,
                          tls_cause *why) {
  TRY(offered_psks(data, out, why));
  /* The binders are the last bytes of the ClientHello. */
  out->binders_len = 2 + cur_len(&out->binders);
  if (cur_data(&out->binders) + cur_len(&out->binders) !=
      cur_data(&whole) + cur_len(&whole)) {
    return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                     "pre_shared_key is not the last extension");
  }
  return MOAT_OK;
}

moat_err ext_psk_next(ext_psk_offer *o, uint16_t index, cursor *out_id,
                      uint32_t *out_age, cursor *out_binder, bool *out_end,
                      tls_cause *why) {
  *out_end = cur_done(&o->ids);
  if (*out_end) {
    if (!cur_done(&o->binders)) {
      return cause_set(why, MOAT_ERR_ILLEGAL_PARAMETER,
                       "pre_shared_key has more binders than identities");
    }
    return MOAT_OK;
  }
  /* RFC 8446 4.2.11: a binder is 32 to 255 bytes. */
  if (!cur_prefixed16(&o->ids, out_id) || !cur_u32(&o->ids, out_age) ||
      cur_done(out_id) || !cur_prefixed8(&o->binders, out_binder) ||
      cur_len(out_binder) < 32) {
    return cause_set(why, MOAT_ERR_DECODE_ERROR,
                     "malformed PSK identity or binder %u", index);
  }
  return MOAT_OK;
}

/* The client offers its ticket; the server names the identity it took. */
bool ext_psk_send(unsigned msg, const ext_params *p) {
  return msg == M_CH ? p->tls13 && p->ticket != NULL : p->psk_accepted;
}

bool ext_psk_row_build(builder *b, unsigned msg, const ext_params *p) {
  if (msg == M_CH) {
    return ext_psk_build_ch(b, p->ticket, p->ticket_len, p->obfuscated_age,
                            p->binder_len);
  }
  return ext_psk_build_sh(b, p->psk_index);
}

/* In a ClientHello, the framing only: the server's reading of the offer
 * needs the whole message (ext_psk_parse_ch, ext_psk_next). */
moat_err ext_psk_read(cursor data, unsigned msg, const ext_params *p,
                      ext_values *out, tls_cause *why) {
  (void)p;
  if (msg == M_CH) {
    ext_psk_offer offer;
    return offered_psks(data, &offer, why);
  }
  return ext_psk_parse_sh(data, &out->psk_selected, why);
}
