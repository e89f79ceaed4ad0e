/* Host name and IP matching (RFC 6125 / RFC 9525). */
#include <string.h>

#include "t.h"
#include "x509/x509.h"

static bool m(const char *pattern, const char *host) {
  return x509_dns_match((const uint8_t *)pattern, strlen(pattern), host);
}

int main(void) {
  CHECK(m("example.com", "example.com"));
  CHECK(m("Example.COM", "example.com"));
  CHECK(m("example.com", "example.com."));
  CHECK(!m("example.com", "www.example.com"));
  CHECK(m("*.example.com", "www.example.com"));
  CHECK(m("*.example.com", "WWW.Example.com"));
  CHECK(!m("*.example.com", "example.com"));
  CHECK(!m("*.example.com", "a.b.example.com"));
  CHECK(!m("*.com", "example.com"));              /* too wide */
  CHECK(!m("w*.example.com", "www.example.com")); /* partial wildcard */
  CHECK(!m("*w.example.com", "www.example.com"));
  CHECK(!m("www.*.com", "www.example.com"));
  CHECK(!m("*.example.com", "*.example.com")); /* reference with '*' */
  CHECK(m("xn--bcher-kva.example", "xn--bcher-kva.example"));
  /* An embedded NUL never matches. */
  CHECK(
      !x509_dns_match((const uint8_t *)"example.com\0evil", 16, "example.com"));

  uint8_t ip[16];
  size_t n;
  CHECK(x509_parse_ip("127.0.0.1", ip, &n));
  CHECK_EQ_INT(n, 4);
  CHECK(ip[0] == 127 && ip[3] == 1);
  CHECK(!x509_parse_ip("127.0.0.01", ip, &n));
  CHECK(!x509_parse_ip("127.0.0", ip, &n));
  CHECK(!x509_parse_ip("256.0.0.1", ip, &n));
  CHECK(x509_parse_ip("::1", ip, &n));
  CHECK_EQ_INT(n, 16);
  CHECK(ip[15] == 1 && ip[0] == 0);
  CHECK(x509_parse_ip("2001:db8::8:800:200c:417a", ip, &n));
  CHECK(ip[0] == 0x20 && ip[1] == 0x01 && ip[15] == 0x7a);
  CHECK(x509_parse_ip("::ffff:192.0.2.1", ip, &n));
  CHECK(ip[10] == 0xff && ip[12] == 192);
  CHECK(!x509_parse_ip("1::2::3", ip, &n));
  CHECK(!x509_parse_ip("12345::1", ip, &n));
  CHECK(!x509_parse_ip("example.com", ip, &n));
  return t_done("test_hostname");
}
