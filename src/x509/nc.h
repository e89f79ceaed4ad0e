/* Name constraints (RFC 5280 4.2.1.10). */
#ifndef MOAT_X509_NC_H
#define MOAT_X509_NC_H

#include <stdbool.h>

#include "x509/cert.h"

/* Checks c's names against ca's nameConstraints: 0 when allowed, else an
 * X509_V_ERR code (47 permitted, 48 excluded, 51/52/53 unsupported).
 * subject: also the subject DN (false for self-issued intermediates,
 * RFC 5280 6.1.3 (b)).  leaf: also a host-like CN when there are no DNS
 * or IP SANs. */
long x509_nc_check(const x509_cert *ca, const x509_cert *c, bool subject,
                   bool leaf);
/* One DNS name (a leaf's CN that matched the host name) against ca's
 * nameConstraints: 0 or an X509_V_ERR code as above. */
long x509_nc_check_dns(const x509_cert *ca, cursor name);

#endif
