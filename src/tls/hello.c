/* The hello layer: which version a ClientHello / ServerHello leads to,
 * within the context's bounds, and the downgrade sentinels (RFC 8446
 * 4.1.3).  After it, the connection runs the flow of that version. */
#include <string.h>

#include "base/mem.h"
#include "tls/msg/msg.h"

/* RFC 8446 4.1.3: "DOWNGRD" and 01 (TLS 1.2) or 00 (older). */
static const uint8_t k_downgrade[7] = {0x44, 0x4f, 0x57, 0x4e,
                                       0x47, 0x52, 0x44};

bool ctx_allows(const tls_policy *ctx, uint16_t version) {
  return version >= ctx->min_version && version <= ctx->max_version;
}

uint16_t key_curve_group(key_type kt) {
  switch (kt) {
  case KEY_EC_P256:
    return 0x0017; /* secp256r1 */
  case KEY_EC_P384:
    return 0x0018;
  case KEY_EC_P521:
    return 0x0019;
  default:
    return 0;
  }
}

bool suite_offered(const tls_policy *ctx, uint16_t code, uint16_t version) {
  for (size_t i = 0; i < ctx->num_suites; i++) {
    if (ctx->suites[i]->code == code && ctx->suites[i]->version == version) {
      return true;
    }
  }
  return false;
}

static const char *version_name(uint16_t v) {
  switch (v) {
  case 0x0304:
    return "TLS 1.3";
  case 0x0303:
    return "TLS 1.2";
  case 0x0302:
    return "TLS 1.1";
  case 0x0301:
    return "TLS 1.0";
  case 0x0300:
    return "SSL 3.0";
  default:
    return "an unknown protocol version";
  }
}

static const char *bounds_name(const tls_policy *ctx) {
  if (ctx->min_version == ctx->max_version) {
    return ctx->max_version == MOAT_TLS1_3 ? "TLS 1.3 only" : "TLS 1.2 only";
  }
  return "TLS 1.2 and 1.3";
}

moat_err hello_server_version(moat_conn *conn, const client_hello *ch,
                              uint16_t *out_version) {
  const tls_policy *ctx = conn->ctx;
  bool tls13 = false, tls12 = false;
  /* RFC 8446 D.5: a ClientHello below TLS 1.0 (SSL 3.0 and older) is
   * refused whatever its extensions say. */
  if (ch->legacy_version < 0x0301) {
    return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                     "the ClientHello's legacy_version 0x%04x is %s, which "
                     "moat refuses",
                     ch->legacy_version, version_name(ch->legacy_version));
  }
  if (ext_has(&ch->ext, X_SUPPORTED_VERSIONS)) {
    tls_cause why;
    if (ext_versions_parse_ch(ch->ext.data[X_SUPPORTED_VERSIONS], &tls13,
                              &tls12, &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
  } else {
    /* RFC 8446 4.2.1: without the extension legacy_version is the
     * client's highest version. */
    tls12 = ch->legacy_version >= 0x0303;
  }
  if (tls13 && ctx_allows(ctx, MOAT_TLS1_3)) {
    *out_version = MOAT_TLS1_3;
    return MOAT_OK;
  }
  if (tls12 && ctx_allows(ctx, MOAT_TLS1_2)) {
    *out_version = MOAT_TLS1_2;
    return MOAT_OK;
  }
  return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                   "the client offers %s; this server speaks %s",
                   tls13   ? "TLS 1.3 only"
                   : tls12 ? "TLS 1.2 at most"
                           : "only versions older than TLS 1.2",
                   bounds_name(ctx));
}

moat_err hello_client_version(moat_conn *conn, const server_hello *sh,
                              uint16_t *out_version) {
  const tls_policy *ctx = conn->ctx;
  if (ext_has(&sh->ext, X_SUPPORTED_VERSIONS)) {
    uint16_t version;
    tls_cause why;
    if (ext_versions_parse_sh(sh->ext.data[X_SUPPORTED_VERSIONS], &version,
                              &why) != MOAT_OK) {
      return conn_fail_cause(conn, &why);
    }
    /* RFC 8446 4.2.1: only TLS 1.3 is negotiated this way. */
    if (version != 0x0304 || !ctx_allows(ctx, MOAT_TLS1_3)) {
      return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                       "the server selected version 0x%04x, which was not "
                       "offered",
                       version);
    }
    if (sh->legacy_version != 0x0303) {
      return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                       "ServerHello legacy_version 0x%04x is not 0x0303",
                       sh->legacy_version);
    }
    *out_version = MOAT_TLS1_3;
    return MOAT_OK;
  }
  if (sh->is_hrr) {
    return conn_fail(conn, MOAT_ERR_MISSING_EXTENSION,
                     "HelloRetryRequest without supported_versions");
  }
  uint16_t version = sh->legacy_version;
  if (version != 0x0303 || !ctx_allows(ctx, MOAT_TLS1_2)) {
    return conn_fail(conn, MOAT_ERR_PROTOCOL_VERSION,
                     "the server chose %s; this client speaks %s",
                     version_name(version), bounds_name(ctx));
  }
  /* RFC 8446 4.1.3: a client that offered TLS 1.3 checks that a TLS 1.2
   * ServerHello does not carry the sentinel of a server that could do
   * better: then someone removed TLS 1.3 from our offer. */
  const uint8_t *tail = sh->random + TLS_RANDOM_LEN - 8;
  if (ctx_allows(ctx, MOAT_TLS1_3) && memcmp(tail, k_downgrade, 7) == 0 &&
      (tail[7] == 0x00 || tail[7] == 0x01)) {
    return conn_fail(conn, MOAT_ERR_ILLEGAL_PARAMETER,
                     "the TLS 1.2 ServerHello carries the TLS 1.3 downgrade "
                     "sentinel: the connection was tampered with");
  }
  *out_version = MOAT_TLS1_2;
  return MOAT_OK;
}

void hello_mark_downgrade(const moat_conn *conn, uint8_t *random) {
  if (ctx_allows(conn->ctx, MOAT_TLS1_3)) {
    memcpy(random + TLS_RANDOM_LEN - 8, k_downgrade, 7);
    random[TLS_RANDOM_LEN - 1] = 0x01;
  }
}

moat_err hello_set_alpn(moat_conn *conn, cursor name) {
  char *p = moat_malloc(cur_len(&name) + 1);
  if (p == NULL) {
    return conn_fail(conn, MOAT_ERR_NO_MEMORY, "ALPN");
  }
  memcpy(p, cur_data(&name), cur_len(&name));
  p[cur_len(&name)] = '\0';
  moat_free(conn->alpn);
  conn->alpn = p;
  return MOAT_OK;
}

void hello_set_record_limits(moat_conn *conn, uint16_t peer, uint16_t ours) {
  /* RFC 8449 4: values above the version's largest record are allowed
   * (a server must not refuse them) and mean that largest. */
  uint16_t max = conn->version == MOAT_TLS1_3 ? RSL_MAX13 : RSL_MAX12;
  conn->rsl_peer = peer < max ? peer : max;
  conn->rsl_ours = ours != 0 && ours < max ? ours : max;
}

/* What the server reads of every first ClientHello, whatever the
 * version: TLS 1.3 requires groups and schemes (its flow checks), a TLS
 * 1.2 client may omit them. */
#define OFFERS                                                                 \
  (X_BIT(X_SERVER_NAME) | X_BIT(X_SUPPORTED_GROUPS) |                          \
   X_BIT(X_SIGNATURE_ALGORITHMS) | X_BIT(X_ALPN) |                             \
   X_BIT(X_PSK_KEY_EXCHANGE_MODES) | X_BIT(X_COMPRESS_CERTIFICATE) |           \
   X_BIT(X_RECORD_SIZE_LIMIT) | X_BIT(X_STATUS_REQUEST))

/* Reads what the first ClientHello offers into the handshake state. */
moat_err hello_take_offers(moat_conn *conn, const client_hello *ch) {
  handshake *hs = conn->hs;
  const tls_policy *ctx = conn->ctx;
  ext_params p = {.policy = ctx, .peer = "client"};
  ext_values v;
  tls_cause why;
  if (ext_read_block(&ch->ext, M_CH, OFFERS, &p, &v, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  memcpy(hs->peer_groups, v.groups, v.num_groups * sizeof(v.groups[0]));
  hs->num_peer_groups = v.num_groups;
  memcpy(hs->peer_sigalgs, v.sigalgs, v.num_sigalgs * sizeof(v.sigalgs[0]));
  hs->num_peer_sigalgs = v.num_sigalgs;
  hs->client_sent_early_data = ext_has(&ch->ext, X_EARLY_DATA);
  hs->peer_wants_ocsp = v.status_ocsp;
  conn->peer_psk_dhe = v.psk_dhe;
  /* RFC 8879 3: read in any version (a malformed list is refused even
   * where TLS 1.2 then ignores it); the algorithm is chosen when the
   * certificate is sent, with the policy the SNI callback may change. */
  memcpy(hs->peer_cert_comp, v.cert_comp,
         v.num_cert_comp * sizeof(v.cert_comp[0]));
  hs->num_peer_cert_comp = v.num_cert_comp;
  if (v.host[0] != '\0') {
    if (!conn_set_hostname_copy(conn, v.host)) {
      return conn_fail(conn, MOAT_ERR_NO_MEMORY, "server name");
    }
  }
  if (ctx->sni_cb != NULL &&
      ctx->sni_cb(ctx->sni_arg, conn, conn->hostname) != MOAT_OK) {
    return conn_fail_alert(conn, MOAT_ERR_HANDSHAKE_FAILURE,
                           conn->sni_alert ? conn->sni_alert
                                           : ALERT_UNRECOGNIZED_NAME,
                           "the server name callback refused \"%s\"",
                           conn->hostname ? conn->hostname : "(none)");
  }
  if ((v.read & X_BIT(X_RECORD_SIZE_LIMIT)) != 0) {
    /* RFC 8449 4: answered (tls13_server.c, tls12_server.c), so
     * negotiated; RFC 8449 5: max_fragment_length, which moat does not
     * implement, is ignored beside it. */
    hello_set_record_limits(conn, v.record_size_limit,
                            conn->ctx->record_size_limit);
  }
  if ((v.read & X_BIT(X_ALPN)) == 0) {
    return MOAT_OK;
  }
  /* The SNI callback may have switched the context: select with the
   * policy the connection has now. */
  cursor chosen;
  if (ext_alpn_select(v.alpn, conn->ctx, &chosen, &why) != MOAT_OK) {
    return conn_fail_cause(conn, &why);
  }
  return cur_len(&chosen) > 0 ? hello_set_alpn(conn, chosen) : MOAT_OK;
}
