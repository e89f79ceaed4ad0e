/* Host name matching: input is "pattern\nhost". */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char host[300];
  uint8_t ip[16];
  size_t ip_len;
  const uint8_t *nl = memchr(data, '\n', size);
  if (nl == NULL) {
    return 0;
  }
  size_t plen = (size_t)(nl - data), hlen = size - plen - 1;
  if (hlen >= sizeof(host)) {
    return 0;
  }
  memcpy(host, nl + 1, hlen);
  host[hlen] = '\0';
  (void)x509_dns_match(data, plen, host);
  (void)x509_dns_syntax_ok(data, plen);
  (void)x509_parse_ip(host, ip, &ip_len);
  return 0;
}
