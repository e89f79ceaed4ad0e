/* Handshake bytes on the wire with and without certificate compression
 * (RFC 8879): a full moat <-> moat TLS 1.3 handshake (X25519, so the key
 * shares stay small beside the certificate) for the RSA-2048 and the
 * ECDSA P-256 chain (leaf and CA), counted per direction.  A byte count,
 * not a timing: the same on every machine for the same certificates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat.h"

#include "bench.h"

/* Carries from's output into to; returns the bytes moved. */
static size_t carry(moat_conn *from, moat_conn *to) {
  size_t moved = 0;
  while (moat_conn_pending_output(from) > 0) {
    const uint8_t *data;
    size_t n, used;
    moat_conn_output_view(from, &data, &n);
    if (moat_conn_feed(to, data, n, &used) != MOAT_OK || used == 0) {
      break;
    }
    moat_conn_output_consume(from, used);
    moved += used;
  }
  return moved;
}

static bool one(const pki_item *item, const char *alg, wire_row *row) {
  moat_context *cc = moat_context_new(MOAT_ROLE_CLIENT);
  moat_context *sc = moat_context_new(MOAT_ROLE_SERVER);
  size_t chain_len = item->leaf_pem_len + item->ca_pem_len;
  char *chain = malloc(chain_len);
  bool ok = cc != NULL && sc != NULL && chain != NULL;
  if (ok) {
    memcpy(chain, item->leaf_pem, item->leaf_pem_len);
    memcpy(chain + item->leaf_pem_len, item->ca_pem, item->ca_pem_len);
    ok = moat_context_load_verify_locations(cc, NULL, NULL,
                                            (const uint8_t *)item->ca_pem,
                                            item->ca_pem_len) == MOAT_OK &&
         moat_context_load_cert_chain_mem(sc, (const uint8_t *)chain, chain_len,
                                          (const uint8_t *)item->key_pem,
                                          item->key_pem_len, NULL) == MOAT_OK &&
         moat_context_set_groups(cc, "X25519") == MOAT_OK &&
         moat_context_set_groups(sc, "X25519") == MOAT_OK &&
         moat_context_set_min_version(cc, MOAT_TLS1_3) == MOAT_OK &&
         moat_context_set_cert_compression(cc, alg) == MOAT_OK;
  }
  if (ok) {
    moat_context_set_num_tickets(sc, 0); /* the handshake alone */
  }
  moat_conn *c = ok ? moat_conn_new(cc) : NULL;
  moat_conn *s = ok ? moat_conn_new(sc) : NULL;
  row->up = row->down = 0;
  if (c != NULL && s != NULL) {
    moat_conn_set_hostname(c, "localhost");
    moat_err ce = MOAT_ERR_WANT_READ, se = MOAT_ERR_WANT_READ;
    for (int i = 0; i < 20 && (ce != MOAT_OK || se != MOAT_OK); i++) {
      if (ce != MOAT_OK) {
        ce = moat_conn_handshake(c);
      }
      row->up += carry(c, s);
      if (se != MOAT_OK) {
        se = moat_conn_handshake(s);
      }
      row->down += carry(s, c);
      if ((ce != MOAT_OK && ce != MOAT_ERR_WANT_READ) ||
          (se != MOAT_OK && se != MOAT_ERR_WANT_READ)) {
        break;
      }
    }
    ok = ce == MOAT_OK && se == MOAT_OK &&
         moat_conn_peer_cert_compression(c) ==
             (alg[0] != '\0' ? moat_conn_cert_compression(s) : 0);
  } else {
    ok = false;
  }
  moat_conn_free(c);
  moat_conn_free(s);
  moat_context_free(cc);
  moat_context_free(sc);
  free(chain);
  return ok;
}

size_t wire_measure(const bench_pki *pki, wire_row *rows, size_t cap) {
  static const char *const certs[CERT__COUNT] = {
      [CERT_ECDSA] = "ecdsa-p256", [CERT_RSA] = "rsa2048"};
  static const char *const algs[] = {"", "zstd", "brotli", "zlib"};
  size_t n = 0;
  for (int k = CERT_RSA; k >= CERT_ECDSA; k--) {
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]) && n < cap; a++) {
      wire_row *r = &rows[n];
      r->chain = certs[k];
      r->alg = algs[a][0] != '\0' ? algs[a] : "none";
      r->ok = one(&pki->item[k], algs[a], r);
      n++;
    }
  }
  return n;
}

void wire_print(const wire_row *rows, size_t n) {
  printf("\nhandshake bytes on the wire, moat <-> moat, TLS 1.3 full "
         "handshake (X25519, chain: leaf + CA):\n");
  printf("%-12s %-12s %16s %16s %12s\n", "chain", "cert-comp", "client->server",
         "server->client", "vs none");
  size_t base = 0;
  for (size_t i = 0; i < n; i++) {
    const wire_row *r = &rows[i];
    if (strcmp(r->alg, "none") == 0) {
      base = r->ok ? r->down : 0;
    }
    if (!r->ok) {
      printf("%-12s %-12s %16s %16s %12s\n", r->chain, r->alg, "-", "-",
             "(not built)");
      continue;
    }
    char vs[32] = "-";
    if (base > 0 && strcmp(r->alg, "none") != 0) {
      snprintf(vs, sizeof(vs), "%+.1f%%",
               100.0 * ((double)r->down - (double)base) / (double)base);
    }
    printf("%-12s %-12s %16zu %16zu %12s\n", r->chain, r->alg, r->up, r->down,
           vs);
  }
}
