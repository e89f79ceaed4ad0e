/* x509-limbo harness: reads limbo.json on stdin, runs every test case
 * through moat's verifier and writes the results document on stdout
 * ({"version":1,"harness":"moat","results":[...]}), with a pass/fail
 * summary by family on stderr.
 *
 *   limbo [--floor-file F] < limbo.json > results.json
 *
 * With --floor-file, exits non-zero when fewer cases agree with
 * expected_result than the number in F. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "json.h" /* tests/unit/json.h */
#include "x509/der.h"
#include "x509/x509.h"

#define MAX_FAMILIES 64

typedef struct family {
  char name[48];
  int pass, fail, skip;
} family;

static family families[MAX_FAMILIES];
static int nfamilies;

static family *family_of(const char *id) {
  char name[48];
  size_t n = strcspn(id, ":");
  snprintf(name, sizeof(name), "%.*s", (int)n, id);
  for (int i = 0; i < nfamilies; i++) {
    if (strcmp(families[i].name, name) == 0) {
      return &families[i];
    }
  }
  if (nfamilies == MAX_FAMILIES) {
    return &families[MAX_FAMILIES - 1];
  }
  snprintf(families[nfamilies].name, sizeof(families[0].name), "%s", name);
  return &families[nfamilies++];
}

static char *read_all(FILE *f, size_t *out_len) {
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  size_t got;
  while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += got;
    if (cap - len < 2) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  buf[len] = '\0';
  *out_len = len;
  return buf;
}

/* "2024-01-01T00:00:00Z" or "...+00:00". */
static bool parse_iso(const char *s, int64_t *out) {
  int y, mo, d, h, mi, se;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6) {
    return false;
  }
  *out = der_civil_to_time(y, (unsigned)mo, (unsigned)d, (unsigned)h,
                           (unsigned)mi, (unsigned)se);
  return true;
}

static void json_escape(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fprintf(f, "\\%c", c);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

/* All CERTIFICATE blocks of a PEM string, appended to ders/lens. */
static bool pem_certs(const char *pem, uint8_t **ders, size_t *lens, size_t *n,
                      size_t cap) {
  cursor text = cur_make((const uint8_t *)pem, strlen(pem));
  for (;;) {
    char label[64];
    uint8_t *der;
    size_t len;
    if (pem_next(&text, label, sizeof(label), &der, &len, NULL, 0) != MOAT_OK) {
      return false;
    }
    if (der == NULL) {
      return true;
    }
    if (*n == cap) {
      moat_free(der);
      return false;
    }
    ders[*n] = der;
    lens[*n] = len;
    (*n)++;
  }
}

typedef enum { R_SUCCESS, R_FAILURE, R_SKIPPED } result;

static result run_case(const jval *tc, char *context, size_t cap) {
  const jval *v;
  x509_verify_opts opts;
  x509_verify_result res;
  uint8_t *ders[X509_MAX_CHAIN * 4];
  size_t lens[X509_MAX_CHAIN * 4], n = 0;
  result r = R_SKIPPED;
  char detail[256] = "";
  memset(&opts, 0, sizeof(opts));
  x509_store *store = x509_store_new();

  v = j_get(tc, "expected_peer_name");
  const char *kind = j_sval(j_get(v, "kind"));
  if (kind != NULL && strcmp(kind, "RFC822") == 0) {
    snprintf(context, cap, "RFC822 peer names are not checked by moat");
    goto done;
  }
  opts.hostname = j_sval(j_get(v, "value"));
  opts.purpose = MOAT_PURPOSE_SERVER_AUTH;
  const char *vk = j_sval(j_get(tc, "validation_kind"));
  if (vk != NULL && strcmp(vk, "CLIENT") == 0) {
    opts.purpose = MOAT_PURPOSE_CLIENT_AUTH;
  }
  v = j_get(tc, "extended_key_usage");
  for (size_t i = 0; v != NULL && v->type == J_ARR && i < v->n; i++) {
    const char *e = j_sval(&v->items[i]);
    if (e != NULL && strcmp(e, "clientAuth") == 0) {
      opts.purpose = MOAT_PURPOSE_CLIENT_AUTH;
    } else if (e != NULL && strcmp(e, "serverAuth") == 0) {
      opts.purpose = MOAT_PURPOSE_SERVER_AUTH;
    } else {
      snprintf(context, cap, "extended key usage %s is not a TLS purpose",
               e ? e : "?");
      goto done;
    }
  }
  /* Leaf keyUsage is checked only when the case asks for it. */
  opts.skip_leaf_key_usage = true;
  v = j_get(tc, "key_usage");
  for (size_t i = 0; v != NULL && v->type == J_ARR && i < v->n; i++) {
    const char *ku = j_sval(&v->items[i]);
    if (ku != NULL && strcmp(ku, "digitalSignature") == 0) {
      opts.skip_leaf_key_usage = false;
    }
  }
  const char *when = j_sval(j_get(tc, "validation_time"));
  opts.now = (int64_t)time(NULL);
  if (when != NULL && !parse_iso(when, &opts.now)) {
    snprintf(context, cap, "bad validation_time");
    goto done;
  }
  /* limbo's model: every trusted certificate is a trust anchor, and the
   * checks of RFC 5280 / CA/B Forum apply (OpenSSL's X509_STRICT). */
  opts.flags = MOAT_VERIFY_X509_PARTIAL_CHAIN | MOAT_VERIFY_X509_STRICT;
  v = j_get(tc, "max_chain_depth");
  if (v != NULL && v->type == J_NUM) {
    opts.max_depth = v->num == 0 ? -1 : (int)v->num;
  }
  v = j_get(tc, "trusted_certs");
  for (size_t i = 0; v != NULL && v->type == J_ARR && i < v->n; i++) {
    const char *pem = j_sval(&v->items[i]);
    if (pem == NULL ||
        x509_store_add_mem(store, (const uint8_t *)pem, strlen(pem), detail,
                           sizeof(detail)) != MOAT_OK) {
      /* An unparsable anchor is simply not an anchor. */
      continue;
    }
  }
  v = j_get(tc, "crls");
  for (size_t i = 0; v != NULL && v->type == J_ARR && i < v->n; i++) {
    const char *pem = j_sval(&v->items[i]);
    if (pem != NULL) {
      (void)x509_store_add_mem(store, (const uint8_t *)pem, strlen(pem), detail,
                               sizeof(detail));
      opts.flags |= MOAT_VERIFY_CRL_CHECK_CHAIN;
    }
  }
  const char *peer = j_sval(j_get(tc, "peer_certificate"));
  if (peer == NULL || !pem_certs(peer, ders, lens, &n, 1) || n != 1) {
    r = R_FAILURE;
    snprintf(context, cap, "peer certificate is not valid PEM");
    goto done;
  }
  v = j_get(tc, "untrusted_intermediates");
  for (size_t i = 0; v != NULL && v->type == J_ARR && i < v->n; i++) {
    const char *pem = j_sval(&v->items[i]);
    if (pem == NULL ||
        !pem_certs(pem, ders, lens, &n, sizeof(ders) / sizeof(ders[0]))) {
      r = R_FAILURE;
      snprintf(context, cap, "intermediate %zu is not valid PEM", i);
      goto done;
    }
  }
  x509_verify_chain(store, (const uint8_t *const *)ders, lens, n, &opts, &res);
  r = res.err == MOAT_OK ? R_SUCCESS : R_FAILURE;
  snprintf(context, cap, "code %ld: %s", res.code, res.message);
done:
  for (size_t i = 0; i < n; i++) {
    moat_free(ders[i]);
  }
  x509_store_free(store);
  return r;
}

int main(int argc, char **argv) {
  const char *floor_file = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--floor-file") == 0 && i + 1 < argc) {
      floor_file = argv[++i];
    } else {
      fprintf(stderr, "usage: limbo [--floor-file F] < limbo.json\n");
      return 2;
    }
  }
  size_t len;
  char *text = read_all(stdin, &len);
  jval doc_val;
  bool parsed = text != NULL && j_parse(text, len, &doc_val);
  free(text);
  jval *doc = parsed ? &doc_val : NULL;
  const jval *cases = j_get(doc, "testcases");
  if (cases == NULL || cases->type != J_ARR) {
    fprintf(stderr, "limbo: stdin is not a limbo document\n");
    if (doc != NULL) {
      j_free(doc);
    }
    return 2;
  }
  int agree = 0, disagree = 0, skipped = 0;
  printf("{\"version\":1,\"harness\":\"moat\",\"results\":[");
  for (size_t i = 0; i < cases->n; i++) {
    const jval *tc = &cases->items[i];
    const char *id = j_sval(j_get(tc, "id"));
    const char *expected = j_sval(j_get(tc, "expected_result"));
    char context[512];
    result r = run_case(tc, context, sizeof(context));
    static const char *const names[] = {"SUCCESS", "FAILURE", "SKIPPED"};
    family *fam = family_of(id ? id : "?");
    if (r == R_SKIPPED) {
      skipped++;
      fam->skip++;
    } else if (expected != NULL && strcmp(expected, names[r]) == 0) {
      agree++;
      fam->pass++;
    } else {
      disagree++;
      fam->fail++;
      if (getenv("LIMBO_VERBOSE") != NULL) {
        fprintf(stderr, "DISAGREE %s expected %s: %s\n", id,
                expected ? expected : "?", context);
      }
    }
    printf("%s{\"id\":", i ? "," : "");
    json_escape(stdout, id ? id : "?");
    printf(",\"actual_result\":\"%s\",\"context\":", names[r]);
    json_escape(stdout, context);
    printf("}");
  }
  printf("]}\n");
  fprintf(stderr, "%-16s %6s %6s %6s\n", "family", "agree", "differ", "skip");
  for (int i = 0; i < nfamilies; i++) {
    fprintf(stderr, "%-16s %6d %6d %6d\n", families[i].name, families[i].pass,
            families[i].fail, families[i].skip);
  }
  fprintf(stderr, "total: %d agree, %d disagree, %d skipped of %zu\n", agree,
          disagree, skipped, cases->n);
  j_free(doc);
  if (floor_file != NULL) {
    FILE *f = fopen(floor_file, "r");
    int floor = 0;
    if (f == NULL || fscanf(f, "%d", &floor) != 1) {
      fprintf(stderr, "limbo: cannot read %s\n", floor_file);
      if (f != NULL) {
        fclose(f);
      }
      return 2;
    }
    fclose(f);
    if (agree < floor) {
      fprintf(stderr, "limbo: %d cases agree, below the floor of %d\n", agree,
              floor);
      return 1;
    }
    fprintf(stderr, "limbo: %d cases agree (floor %d)\n", agree, floor);
  }
  return 0;
}
