/* DER helpers: times, OIDs, strictness of the certificate parser. */
#include <string.h>

#include "t.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/der.h"

static bool time_of(const char *hex, int64_t *out) {
  unsigned char buf[64];
  size_t n = t_unhex(hex, buf, sizeof(buf));
  cursor c = cur_make(buf, n);
  return der_read_time(&c, out) && cur_done(&c);
}

int main(void) {
  int64_t t;
  /* UTCTime 240101000000Z = 1704067200 (RFC 5280 4.1.2.5.1). */
  CHECK(time_of("170d3234303130313030303030305a", &t));
  CHECK_EQ_INT(t, 1704067200);
  /* UTCTime 500101000000Z is 1950. */
  CHECK(time_of("170d3530303130313030303030305a", &t));
  CHECK_EQ_INT(t, -631152000);
  /* GeneralizedTime 20000229120000Z (leap day). */
  CHECK(time_of("180f32303030303232393132303030305a", &t));
  CHECK_EQ_INT(t, 951825600);
  /* 2100-02-29 does not exist. */
  CHECK(!time_of("180f32313030303232393132303030305a", &t));
  /* No seconds, fractions or offsets. */
  CHECK(!time_of("170b323430313031303030305a", &t));
  CHECK(!time_of("1711323430313031303030303030302b30303030", &t));
  CHECK(!time_of("1813323030303031303130303030303030302e315a", &t));

  char text[40];
  der_time_text(1704067200, text, sizeof(text));
  CHECK(strcmp(text, "2024-01-01 00:00:00 UTC") == 0);

  /* OIDs: 1.2.840.113549.1.1.11 and a non-minimal one. */
  unsigned char oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
  cursor o = cur_make(oid, sizeof(oid));
  CHECK(der_oid_valid(&o));
  der_oid_text(&o, text, sizeof(text));
  CHECK(strcmp(text, "1.2.840.113549.1.1.11") == 0);
  unsigned char bad[] = {0x2a, 0x80, 0x01};
  o = cur_make(bad, sizeof(bad));
  CHECK(!der_oid_valid(&o));
  unsigned char trunc[] = {0x2a, 0x86};
  o = cur_make(trunc, sizeof(trunc));
  CHECK(!der_oid_valid(&o));

  /* Key usage: digitalSignature + keyCertSign = bits 0 and 5
   * (03 02 02 84: 2 unused bits, 10000100). */
  unsigned char ku[] = {0x03, 0x02, 0x02, 0x84};
  cursor k = cur_make(ku, sizeof(ku));
  uint16_t usage = 0;
  CHECK(x509_parse_key_usage(&k, &usage));
  CHECK_EQ_INT(usage, KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN);
  /* A set bit among the unused ones is not DER. */
  unsigned char ku_bad[] = {0x03, 0x02, 0x02, 0x85};
  k = cur_make(ku_bad, sizeof(ku_bad));
  CHECK(!x509_parse_key_usage(&k, &usage));

  /* Garbage is not a certificate, and the detail says why. */
  char detail[128] = "";
  x509_cert c;
  unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01, 0x00};
  CHECK_EQ_INT(x509_cert_parse(&c, junk, sizeof(junk), detail, sizeof(detail)),
               MOAT_ERR_X509_PARSE);
  CHECK(strstr(detail, "certificate:") != NULL);

  /* CRL entry extensions (RFC 5280 5.3): a critical one moat does not
   * process (here certificateIssuer, as in an indirect CRL) makes the
   * whole CRL unusable; a non-critical reasonCode does not. */
  unsigned char crl_der[128];
  x509_crl crl;
  int64_t when = 0;
  unsigned char serial_a[] = {0x0a};
  size_t crl_len = t_unhex(
      "30553043020101300a06082a8648ce3d040302300d310b300906035504030c026361"
      "170d3234303130313030303030305a3014301202010a170d32343031303130303030"
      "30305a300a06082a8648ce3d04030203020001",
      crl_der, sizeof(crl_der));
  CHECK_EQ_INT(x509_crl_parse(&crl, crl_der, crl_len, NULL, 0), MOAT_OK);
  CHECK(!crl.unknown_critical);
  CHECK(x509_crl_lists(&crl, cur_make(serial_a, 1), &when));
  CHECK_EQ_INT(when, 1704067200);
  crl_len = t_unhex(
      "30683056020101300a06082a8648ce3d040302300d310b300906035504030c026361"
      "170d3234303130313030303030305a3027302502010a170d32343031303130303030"
      "30305a3011300f0603551d1d0101ff04053003820178300a06082a8648ce3d040302"
      "03020001",
      crl_der, sizeof(crl_der));
  CHECK_EQ_INT(x509_crl_parse(&crl, crl_der, crl_len, NULL, 0), MOAT_OK);
  CHECK(crl.unknown_critical);
  crl_len = t_unhex(
      "30633051020101300a06082a8648ce3d040302300d310b300906035504030c026361"
      "170d3234303130313030303030305a3022302002010a170d32343031303130303030"
      "30305a300c300a0603551d1504030a0101300a06082a8648ce3d040302"
      "03020001",
      crl_der, sizeof(crl_der));
  CHECK_EQ_INT(x509_crl_parse(&crl, crl_der, crl_len, NULL, 0), MOAT_OK);
  CHECK(!crl.unknown_critical);
  CHECK(x509_crl_lists(&crl, cur_make(serial_a, 1), &when));
  /* An entry's Extensions whose member is not an Extension SEQUENCE
   * (the byte before the signatureAlgorithm and signature, 16 bytes, and
   * the 12-byte Extension). */
  CHECK_EQ_INT(crl_der[crl_len - 16 - 12], 0x30);
  crl_der[crl_len - 16 - 12] = 0x31;
  CHECK_EQ_INT(x509_crl_parse(&crl, crl_der, crl_len, NULL, 0),
               MOAT_ERR_X509_PARSE);
  return t_done("test_der");
}
