/* The extension table (src/tls/ext/ext.c) and the hello codecs built on
 * it, with no connection: what each message's block holds and in which
 * order, that what is built reads back, and the refusals of the TLS 1.2
 * extensions and of the PSK offer with the error and alert the peer would
 * get.  The single-extension parsers are in test_messages.c. */
#include "t.h"
#include "hexvec.h"
#include "moat.h"
#include "tls/msg/msg.h"
#include "tls/tls.h"

static moat_context *g_ctx;
static const tls_policy *P;

/* A codec's refusal must be err, with the alert it names and a detail. */
#define REFUSED(expr, err, alert) refused_((expr), (err), (alert), __LINE__)
static tls_cause W;
static void refused_(moat_err got, moat_err err, int alert, int line) {
  bool ok = got == err && W.err == err && alert_for_error(W.err) == alert &&
            W.detail[0] != '\0';
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "  line %d: got %s (%s), want %s alert %d\n", line,
            moat_err_name(got), W.detail, moat_err_name(err), alert);
  }
  memset(&W, 0, sizeof(W));
}

/* The types of an extensions block, in order; returns how many. */
static size_t block_types(cursor block, uint16_t *out, size_t cap) {
  size_t n = 0;
  uint16_t type;
  cursor data;
  while (n < cap && cur_u16(&block, &type) && cur_prefixed16(&block, &data)) {
    out[n++] = type;
  }
  return n;
}

/* The extensions block of a built hello: after the fixed fields. */
static cursor hello_block(const uint8_t *msg, size_t len, bool client) {
  cursor c = cur_make(msg + 4, len - 4), skip;
  uint8_t one;
  uint16_t two;
  const uint8_t *random;
  (void)cur_u16(&c, &two);
  (void)cur_bytes(&c, TLS_RANDOM_LEN, &random);
  (void)cur_prefixed8(&c, &skip);
  if (client) {
    (void)cur_prefixed16(&c, &skip);
    (void)cur_prefixed8(&c, &skip);
  } else {
    (void)cur_u16(&c, &two);
    (void)cur_u8(&c, &one);
  }
  cursor block;
  CHECK(cur_prefixed16(&c, &block) && cur_done(&c));
  return block;
}

static const uint8_t k_random[TLS_RANDOM_LEN] = {1, 2, 3};
static const uint8_t k_share[32] = {0x5a};
static const uint8_t k_cookie[3] = {7, 8, 9};
static const uint8_t k_ticket[5] = {0x71, 0x72, 0x73, 0x74, 0x75};

static void test_client_hello_build(void) {
  ext_share share = {0x001d, k_share, sizeof(k_share)};
  ch_params p = {k_random, k_random, 32, {0}};
  p.ext = (ext_params){.policy = P,
                       .tls13 = true,
                       .tls12 = true,
                       .host = "example.com",
                       .shares = &share,
                       .num_shares = 1,
                       .cookie = k_cookie,
                       .cookie_len = sizeof(k_cookie),
                       .tickets12 = true,
                       .ticket = k_ticket,
                       .ticket_len = sizeof(k_ticket),
                       .obfuscated_age = 0x01020304,
                       .binder_len = 32};
  uint8_t raw[2048];
  builder b;
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ch_build(&b, &p, &W) == MOAT_OK);
  /* The order of today's wire (kept for fingerprints and BoGo), and
   * pre_shared_key last (RFC 8446 4.2.11). */
  static const uint16_t want[] = {EXT_SERVER_NAME,
                                  EXT_SUPPORTED_VERSIONS,
                                  EXT_RENEGOTIATION_INFO,
                                  EXT_EXTENDED_MASTER_SECRET,
                                  EXT_EC_POINT_FORMATS,
                                  EXT_SESSION_TICKET,
                                  EXT_SUPPORTED_GROUPS,
                                  EXT_SIGNATURE_ALGORITHMS,
                                  EXT_KEY_SHARE,
                                  EXT_ALPN,
                                  EXT_COOKIE,
                                  EXT_PSK_KEY_EXCHANGE_MODES,
                                  EXT_COMPRESS_CERTIFICATE,
                                  EXT_PRE_SHARED_KEY};
  uint16_t got[32];
  size_t n = block_types(hello_block(raw, bld_len(&b), true), got, 32);
  CHECK_EQ_INT(n, sizeof(want) / sizeof(want[0]));
  CHECK(n == sizeof(want) / sizeof(want[0]) &&
        memcmp(got, want, sizeof(want)) == 0);
  /* The binder is left zero at the very end for the flow. */
  uint8_t zeros[32] = {0};
  CHECK(memcmp(raw + bld_len(&b) - 32, zeros, 32) == 0);
  CHECK(raw[bld_len(&b) - 33] == 32);

  /* It reads back. */
  client_hello ch;
  CHECK(ch_parse(cur_make(raw + 4, bld_len(&b) - 4), &ch, &W) == MOAT_OK);
  CHECK(!ch.ext.psk_not_last);
  ext_params rp = {.policy = P, .peer = "client"};
  ext_values v;
  CHECK(ext_read_block(&ch.ext, M_CH, ~(uint32_t)0, &rp, &v, &W) == MOAT_OK);
  CHECK(strcmp(v.host, "example.com") == 0 && v.tls13 && v.tls12 && v.psk_dhe &&
        cur_equal(&v.cookie, k_cookie, sizeof(k_cookie)));
  CHECK_EQ_INT(v.num_sigalgs, P->num_verify_sigalgs);
  /* compress_certificate (RFC 8879 3): the policy's algorithms */
  CHECK(v.num_cert_comp == P->num_cert_comp &&
        memcmp(v.cert_comp, P->cert_comp,
               P->num_cert_comp * sizeof(P->cert_comp[0])) == 0);
  CHECK(v.num_groups > 0 && v.groups[0] == P->groups[0]->group);
  cursor found;
  bool have;
  CHECK(ext_key_share_find(ch.ext.data[X_KEY_SHARE], 0x001d, &found, &have,
                           &W) == MOAT_OK &&
        have && cur_equal(&found, k_share, sizeof(k_share)));
  ext_psk_offer offer;
  cursor whole = cur_make(raw, bld_len(&b)), id, binder;
  uint32_t age;
  bool end;
  CHECK(ext_psk_parse_ch(ch.ext.data[X_PRE_SHARED_KEY], whole, &offer, &W) ==
        MOAT_OK);
  CHECK_EQ_INT(offer.binders_len, ext_psk_binders_len(32));
  CHECK(ext_psk_next(&offer, 0, &id, &age, &binder, &end, &W) == MOAT_OK &&
        !end && cur_equal(&id, k_ticket, sizeof(k_ticket)) &&
        age == 0x01020304 && cur_len(&binder) == 32);
  CHECK(ext_psk_next(&offer, 1, &id, &age, &binder, &end, &W) == MOAT_OK &&
        end);

  /* A TLS 1.2-only client sends no TLS 1.3 extension and no SNI for an
   * IP literal (RFC 6066 3); a TLS 1.3-only one none of TLS 1.2's. */
  p.ext.tls13 = false;
  p.ext.host = "192.0.2.1";
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ch_build(&b, &p, &W) == MOAT_OK);
  static const uint16_t want12[] = {EXT_RENEGOTIATION_INFO,
                                    EXT_EXTENDED_MASTER_SECRET,
                                    EXT_EC_POINT_FORMATS,
                                    EXT_SESSION_TICKET,
                                    EXT_SUPPORTED_GROUPS,
                                    EXT_SIGNATURE_ALGORITHMS,
                                    EXT_ALPN,
                                    EXT_COOKIE};
  n = block_types(hello_block(raw, bld_len(&b), true), got, 32);
  CHECK(n == sizeof(want12) / sizeof(want12[0]) &&
        memcmp(got, want12, sizeof(want12)) == 0);
  p.ext.tls13 = true;
  p.ext.tls12 = false;
  p.ext.ticket = NULL;
  p.ext.cookie = NULL;
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ch_build(&b, &p, &W) == MOAT_OK);
  static const uint16_t want13[] = {EXT_SUPPORTED_VERSIONS,
                                    EXT_SUPPORTED_GROUPS,
                                    EXT_SIGNATURE_ALGORITHMS,
                                    EXT_KEY_SHARE,
                                    EXT_ALPN,
                                    EXT_PSK_KEY_EXCHANGE_MODES,
                                    EXT_COMPRESS_CERTIFICATE};
  n = block_types(hello_block(raw, bld_len(&b), true), got, 32);
  CHECK(n == sizeof(want13) / sizeof(want13[0]) &&
        memcmp(got, want13, sizeof(want13)) == 0);
  /* A builder too small fails as a cause, not a crash. */
  bld_init_fixed(&b, raw, 40);
  REFUSED(ch_build(&b, &p, &W), MOAT_ERR_INTERNAL, ALERT_INTERNAL_ERROR);
}

static void test_server_hello_build(void) {
  uint8_t raw[512];
  builder b;
  sh_params p = {.random = k_random,
                 .session_id = k_random,
                 .session_id_len = 32,
                 .suite = 0x1301,
                 .ext = {.group = 0x001d,
                         .share = k_share,
                         .share_len = sizeof(k_share),
                         .psk_accepted = true,
                         .psk_index = 0}};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(sh_build(&b, &p, &W) == MOAT_OK);
  uint32_t all = ~(uint32_t)0;
  server_hello sh;
  CHECK(sh_parse(cur_make(raw + 4, bld_len(&b) - 4), all, all, &sh, &W) ==
        MOAT_OK);
  CHECK(!sh.is_hrr && sh.suite == 0x1301);
  uint16_t got[8];
  size_t n = block_types(hello_block(raw, bld_len(&b), false), got, 8);
  CHECK(n == 3 && got[0] == EXT_SUPPORTED_VERSIONS && got[1] == EXT_KEY_SHARE &&
        got[2] == EXT_PRE_SHARED_KEY);
  ext_params rp = {.policy = P, .peer = "server"};
  ext_values v;
  CHECK(ext_read_block(&sh.ext, M_SH, all, &rp, &v, &W) == MOAT_OK);
  CHECK(v.version == 0x0304 && v.group == 0x001d && v.psk_selected == 0 &&
        cur_equal(&v.share, k_share, sizeof(k_share)));

  /* HelloRetryRequest: its random, the group alone, the cookie. */
  p.hrr = true;
  p.ext.cookie = k_cookie;
  p.ext.cookie_len = sizeof(k_cookie);
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(sh_build(&b, &p, &W) == MOAT_OK);
  CHECK(sh_parse(cur_make(raw + 4, bld_len(&b) - 4), all, all, &sh, &W) ==
        MOAT_OK);
  CHECK(sh.is_hrr);
  n = block_types(hello_block(raw, bld_len(&b), false), got, 8);
  CHECK(n == 3 && got[0] == EXT_SUPPORTED_VERSIONS && got[1] == EXT_KEY_SHARE &&
        got[2] == EXT_COOKIE);
  CHECK(ext_read_block(&sh.ext, M_HRR, all, &rp, &v, &W) == MOAT_OK);
  CHECK(v.group == 0x001d && cur_len(&v.share) == 0 &&
        cur_equal(&v.cookie, k_cookie, sizeof(k_cookie)));

  /* TLS 1.2: what the server answers, and the client reads it back. */
  sh_params p12 = {.random = k_random,
                   .suite = 0xc02b,
                   .ext = {.ack_sni = true,
                           .alpn = "h2",
                           .ems = true,
                           .point_formats = true,
                           .tickets12 = true}};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(sh_build12(&b, &p12, &W) == MOAT_OK);
  CHECK(sh_parse(cur_make(raw + 4, bld_len(&b) - 4), all, all, &sh, &W) ==
        MOAT_OK);
  n = block_types(hello_block(raw, bld_len(&b), false), got, 8);
  CHECK(
      n == 6 && got[0] == EXT_SERVER_NAME && got[1] == EXT_RENEGOTIATION_INFO &&
      got[2] == EXT_EXTENDED_MASTER_SECRET && got[3] == EXT_EC_POINT_FORMATS &&
      got[4] == EXT_SESSION_TICKET && got[5] == EXT_ALPN);
  CHECK(ext_read_block(&sh.ext, M_SH12, all, &rp, &v, &W) == MOAT_OK);
  CHECK(cur_equal(&v.alpn, (const uint8_t *)"h2", 2));
  /* Only the renegotiation_info of an initial handshake: nothing else. */
  p12.ext = (ext_params){0};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(sh_build12(&b, &p12, &W) == MOAT_OK);
  n = block_types(hello_block(raw, bld_len(&b), false), got, 8);
  CHECK(n == 1 && got[0] == EXT_RENEGOTIATION_INFO);
}

static void test_encrypted_extensions_build(void) {
  uint8_t raw[128];
  builder b;
  ext_params p = {.ack_sni = true, .alpn = "http/1.1"};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ee_build(&b, &p, &W) == MOAT_OK);
  ext_params rp = {.policy = P, .peer = "server"};
  ext_values v;
  uint32_t offered = X_BIT(X_SERVER_NAME) | X_BIT(X_ALPN);
  CHECK(ee_parse(cur_make(raw + 4, bld_len(&b) - 4), offered, &rp, &v, &W) ==
        MOAT_OK);
  CHECK((v.read & X_BIT(X_SERVER_NAME)) && (v.read & X_BIT(X_ALPN)) &&
        cur_equal(&v.alpn, (const uint8_t *)"http/1.1", 8));
  /* Nothing to say: an empty block. */
  p = (ext_params){0};
  bld_init_fixed(&b, raw, sizeof(raw));
  CHECK(ee_build(&b, &p, &W) == MOAT_OK);
  CHECK(bld_len(&b) == 6 && raw[4] == 0 && raw[5] == 0);
}

/* One TLS 1.2 extension in a ClientHello (server side) or a TLS 1.2
 * ServerHello (client side), read through the table. */
static moat_err read12(unsigned msg, const char *block_hex) {
  vec blk = V(block_hex);
  ext_set set;
  ext_values v;
  ext_params p = {.policy = P, .peer = msg == M_CH ? "client" : "server"};
  moat_err err =
      ext_parse_block(cur_make(blk.b, blk.n), msg, ~(uint32_t)0, &set, &W);
  return err != MOAT_OK ? err
                        : ext_read_block(&set, msg, ~(uint32_t)0, &p, &v, &W);
}

static void test_tls12_extensions(void) {
  CHECK(read12(M_SH12, "ff01 0001 00  0017 0000  000b 0002 0100  0023 0000") ==
        MOAT_OK);
  CHECK(read12(M_CH, "ff01 0001 00  0017 0000  000b 0003 02 0100  0023 0003 "
                     "616263") == MOAT_OK);
  /* RFC 5746 3.4, 3.6: not empty on an initial handshake, or malformed */
  REFUSED(read12(M_SH12, "ff01 0002 0161"), MOAT_ERR_HANDSHAKE_FAILURE,
          ALERT_HANDSHAKE_FAILURE);
  REFUSED(read12(M_CH, "ff01 0002 0161"), MOAT_ERR_HANDSHAKE_FAILURE,
          ALERT_HANDSHAKE_FAILURE);
  REFUSED(read12(M_SH12, "ff01 0000"), MOAT_ERR_HANDSHAKE_FAILURE,
          ALERT_HANDSHAKE_FAILURE);
  /* the comparison takes the expected value (a renegotiation's) */
  static const uint8_t fin[2] = {0x61, 0x62};
  vec ri = V("02 6162");
  CHECK(ext_reneg_check(cur_make(ri.b, ri.n), fin, 2, "server", &W) == MOAT_OK);
  REFUSED(ext_reneg_check(cur_make(ri.b, ri.n), fin, 1, "server", &W),
          MOAT_ERR_HANDSHAKE_FAILURE, ALERT_HANDSHAKE_FAILURE);
  /* RFC 7627 5.1: empty */
  REFUSED(read12(M_SH12, "0017 0001 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  REFUSED(read12(M_CH, "0017 0001 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  /* RFC 8422 5.1.2: uncompressed must be listed */
  REFUSED(read12(M_SH12, "000b 0002 0101"), MOAT_ERR_ILLEGAL_PARAMETER,
          ALERT_ILLEGAL_PARAMETER);
  REFUSED(read12(M_CH, "000b 0001 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  REFUSED(read12(M_CH, "000b 0003 01 00 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  /* RFC 5077 3.2: the server's session_ticket is empty */
  REFUSED(read12(M_SH12, "0023 0001 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  /* RFC 6066 3: the server's server_name is empty */
  REFUSED(read12(M_SH12, "0000 0001 00"), MOAT_ERR_DECODE_ERROR,
          ALERT_DECODE_ERROR);
  /* RFC 7301 3.1: one protocol, one we offered */
  CHECK(read12(M_SH12, "0010 0005 0003 02 6832") == MOAT_OK);
  REFUSED(read12(M_SH12, "0010 0005 0003 02 6833"), MOAT_ERR_ILLEGAL_PARAMETER,
          ALERT_ILLEGAL_PARAMETER);
}

static void test_psk_offer(void) {
  /* A ClientHello tail: pre_shared_key last, one identity "ab" and a
   * 32-byte binder. */
  vec psk =
      V("0008 0002 6162 00000001"
        "0021 20 0000000000000000000000000000000000000000000000000000000000"
        "000000");
  cursor data = cur_make(psk.b, psk.n), id, binder;
  ext_psk_offer offer;
  uint32_t age;
  bool end;
  CHECK(ext_psk_parse_ch(data, data, &offer, &W) == MOAT_OK);
  /* RFC 8446 4.2.11: the binders end the ClientHello */
  vec longer = psk;
  longer.b[longer.n++] = 0;
  REFUSED(ext_psk_parse_ch(data, cur_make(longer.b, longer.n), &offer, &W),
          MOAT_ERR_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER);
  /* empty lists, trailing bytes */
  vec empty = V("0000 0000");
  REFUSED(ext_psk_parse_ch(cur_make(empty.b, empty.n),
                           cur_make(empty.b, empty.n), &offer, &W),
          MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  REFUSED(ext_psk_parse_ch(cur_make(longer.b, longer.n),
                           cur_make(longer.b, longer.n), &offer, &W),
          MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  /* more binders than identities */
  vec two =
      V("0008 0002 6162 00000001"
        "0042 20 0000000000000000000000000000000000000000000000000000000000"
        "000000"
        "20 0000000000000000000000000000000000000000000000000000000000"
        "000000");
  data = cur_make(two.b, two.n);
  CHECK(ext_psk_parse_ch(data, data, &offer, &W) == MOAT_OK);
  CHECK(ext_psk_next(&offer, 0, &id, &age, &binder, &end, &W) == MOAT_OK &&
        !end && cur_equal(&id, (const uint8_t *)"ab", 2) && age == 1);
  REFUSED(ext_psk_next(&offer, 1, &id, &age, &binder, &end, &W),
          MOAT_ERR_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER);
  /* a binder shorter than 32 bytes, an empty identity */
  static const char *const bad[] = {
      "0008 0002 6162 00000001 0011 10 00000000000000000000000000000000",
      "0006 0000 00000001 0021 20 "
      "0000000000000000000000000000000000000000000000000000000000000000",
  };
  for (size_t i = 0; i < 2; i++) {
    vec v = V(bad[i]);
    data = cur_make(v.b, v.n);
    CHECK(ext_psk_parse_ch(data, data, &offer, &W) == MOAT_OK);
    REFUSED(ext_psk_next(&offer, 0, &id, &age, &binder, &end, &W),
            MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  }
  /* the server's answer and psk_key_exchange_modes */
  uint16_t selected;
  vec sel = V("0003"), sel_long = V("000300");
  CHECK(ext_psk_parse_sh(cur_make(sel.b, sel.n), &selected, &W) == MOAT_OK &&
        selected == 3);
  REFUSED(ext_psk_parse_sh(cur_make(sel_long.b, sel_long.n), &selected, &W),
          MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  bool dhe;
  vec modes = V("02 00 01"), ke_only = V("01 00"), none = V("00");
  CHECK(ext_psk_modes_parse(cur_make(modes.b, modes.n), &dhe, &W) == MOAT_OK &&
        dhe);
  CHECK(ext_psk_modes_parse(cur_make(ke_only.b, ke_only.n), &dhe, &W) ==
            MOAT_OK &&
        !dhe);
  REFUSED(ext_psk_modes_parse(cur_make(none.b, none.n), &dhe, &W),
          MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
}

static void test_server_key_share(void) {
  uint16_t group;
  cursor share;
  vec sh = V("001d 0002 aabb"), hrr = V("001d");
  CHECK(ext_key_share_parse_sh(cur_make(sh.b, sh.n), false, &group, &share,
                               &W) == MOAT_OK &&
        group == 0x001d && cur_len(&share) == 2);
  CHECK(ext_key_share_parse_sh(cur_make(hrr.b, hrr.n), true, &group, &share,
                               &W) == MOAT_OK &&
        group == 0x001d);
  REFUSED(
      ext_key_share_parse_sh(cur_make(sh.b, sh.n), true, &group, &share, &W),
      MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  REFUSED(
      ext_key_share_parse_sh(cur_make(hrr.b, hrr.n), false, &group, &share, &W),
      MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
  vec sh_long = V("001d 0002 aabb 00");
  REFUSED(ext_key_share_parse_sh(cur_make(sh_long.b, sh_long.n), false, &group,
                                 &share, &W),
          MOAT_ERR_DECODE_ERROR, ALERT_DECODE_ERROR);
}

int main(void) {
  g_ctx = moat_context_new(MOAT_ROLE_CLIENT);
  const char *protos[] = {"h2", "http/1.1"};
  CHECK(moat_context_set_alpn_protocols(g_ctx, protos, 2) == MOAT_OK);
  P = context_policy(g_ctx);
  test_client_hello_build();
  test_server_hello_build();
  test_encrypted_extensions_build();
  test_tls12_extensions();
  test_psk_offer();
  test_server_key_share();
  moat_context_free(g_ctx);
  return t_done("ext");
}
