/* One place maps causes to alerts (STYLE 7). */
#include "tls/tls.h"

int alert_for_error(moat_err err) {
  switch (err) {
  case MOAT_ERR_DECODE_ERROR:
    return ALERT_DECODE_ERROR;
  case MOAT_ERR_UNEXPECTED_MESSAGE:
    return ALERT_UNEXPECTED_MESSAGE;
  case MOAT_ERR_BAD_RECORD_MAC:
    return ALERT_BAD_RECORD_MAC;
  case MOAT_ERR_RECORD_OVERFLOW:
    return ALERT_RECORD_OVERFLOW;
  case MOAT_ERR_ILLEGAL_PARAMETER:
    return ALERT_ILLEGAL_PARAMETER;
  case MOAT_ERR_HANDSHAKE_FAILURE:
    return ALERT_HANDSHAKE_FAILURE;
  case MOAT_ERR_PROTOCOL_VERSION:
    return ALERT_PROTOCOL_VERSION;
  case MOAT_ERR_MISSING_EXTENSION:
    return ALERT_MISSING_EXTENSION;
  case MOAT_ERR_UNSUPPORTED_EXTENSION:
    return ALERT_UNSUPPORTED_EXTENSION;
  case MOAT_ERR_NO_APPLICATION_PROTOCOL:
    return ALERT_NO_APPLICATION_PROTOCOL;
  case MOAT_ERR_DECRYPT_ERROR:
    return ALERT_DECRYPT_ERROR;
  case MOAT_ERR_INSUFFICIENT_SECURITY:
    return ALERT_INSUFFICIENT_SECURITY;
  case MOAT_ERR_RENEGOTIATION_REFUSED:
    return ALERT_NO_RENEGOTIATION;
  case MOAT_ERR_BAD_CERTIFICATE:
  case MOAT_ERR_X509_PARSE:
    return ALERT_BAD_CERTIFICATE;
  case MOAT_ERR_UNSUPPORTED_CERTIFICATE:
    return ALERT_UNSUPPORTED_CERTIFICATE;
  case MOAT_ERR_BAD_OCSP_RESPONSE:
    /* RFC 6066 8: a stapled response that cannot be used. */
    return ALERT_BAD_CERTIFICATE_STATUS_RESPONSE;
  case MOAT_ERR_CERTIFICATE_REQUIRED:
    return ALERT_CERTIFICATE_REQUIRED;
  case MOAT_ERR_CERT_VERIFY_FAILED:
  case MOAT_ERR_HOSTNAME_MISMATCH:
    return ALERT_BAD_CERTIFICATE;
  case MOAT_ERR_SEQUENCE_LIMIT:
  case MOAT_ERR_NO_MEMORY:
  case MOAT_ERR_CRYPTO:
  case MOAT_ERR_INTERNAL:
  case MOAT_ERR_NO_CERTIFICATE:
  case MOAT_ERR_NO_PRIVATE_KEY:
    return ALERT_INTERNAL_ERROR;
  default:
    /* want-read/write, closed, received alerts, EOF: nothing to send */
    return -1;
  }
}

moat_err error_for_alert(int alert) {
  (void)alert;
  return MOAT_ERR_ALERT_RECEIVED;
}

const char *moat_alert_name(int alert) {
  switch (alert) {
  case ALERT_CLOSE_NOTIFY:
    return "close_notify";
  case ALERT_UNEXPECTED_MESSAGE:
    return "unexpected_message";
  case ALERT_BAD_RECORD_MAC:
    return "bad_record_mac";
  case ALERT_RECORD_OVERFLOW:
    return "record_overflow";
  case ALERT_HANDSHAKE_FAILURE:
    return "handshake_failure";
  case ALERT_BAD_CERTIFICATE:
    return "bad_certificate";
  case ALERT_UNSUPPORTED_CERTIFICATE:
    return "unsupported_certificate";
  case ALERT_CERTIFICATE_REVOKED:
    return "certificate_revoked";
  case ALERT_CERTIFICATE_EXPIRED:
    return "certificate_expired";
  case ALERT_CERTIFICATE_UNKNOWN:
    return "certificate_unknown";
  case ALERT_ILLEGAL_PARAMETER:
    return "illegal_parameter";
  case ALERT_UNKNOWN_CA:
    return "unknown_ca";
  case ALERT_ACCESS_DENIED:
    return "access_denied";
  case ALERT_DECODE_ERROR:
    return "decode_error";
  case ALERT_DECRYPT_ERROR:
    return "decrypt_error";
  case ALERT_PROTOCOL_VERSION:
    return "protocol_version";
  case ALERT_INSUFFICIENT_SECURITY:
    return "insufficient_security";
  case ALERT_INTERNAL_ERROR:
    return "internal_error";
  case ALERT_INAPPROPRIATE_FALLBACK:
    return "inappropriate_fallback";
  case ALERT_USER_CANCELED:
    return "user_canceled";
  case ALERT_NO_RENEGOTIATION:
    return "no_renegotiation";
  case ALERT_MISSING_EXTENSION:
    return "missing_extension";
  case ALERT_UNSUPPORTED_EXTENSION:
    return "unsupported_extension";
  case ALERT_UNRECOGNIZED_NAME:
    return "unrecognized_name";
  case ALERT_BAD_CERTIFICATE_STATUS_RESPONSE:
    return "bad_certificate_status_response";
  case ALERT_UNKNOWN_PSK_IDENTITY:
    return "unknown_psk_identity";
  case ALERT_CERTIFICATE_REQUIRED:
    return "certificate_required";
  case ALERT_NO_APPLICATION_PROTOCOL:
    return "no_application_protocol";
  default:
    return "unknown_alert";
  }
}
