/* moat: client, server, certificate inspection and verification, demo. */
#include <stdio.h>
#include <string.h>

#include "moat.h"
#include "tools.h"

static void usage(FILE *f) {
  fprintf(
      f,
      "moat " MOAT_VERSION_STRING " - TLS 1.2 / 1.3 client, server and tools\n"
      "\n"
      "usage: moat COMMAND [options]\n"
      "\n"
      "  client HOST:PORT   connect, print the handshake, relay stdin/stdout\n"
      "  server --port P    serve on 127.0.0.1 (echo or a small HTTP page)\n"
      "  demo               CA + server + client on loopback, with a summary\n"
      "  verify LEAF.pem    build and validate a certificate chain\n"
      "  cert show FILE     print a certificate readably\n"
      "  ech keygen         make an ECH key and ECHConfigList (ech show FILE)\n"
      "  ocsp CERT RESP     check an OCSP response for a certificate\n"
      "\n"
      "'moat COMMAND --help' describes each command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("moat %s\n", MOAT_VERSION_STRING);
    return 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "client") == 0) {
    return cmd_client(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "server") == 0) {
    return cmd_server(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "demo") == 0) {
    return cmd_demo(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "verify") == 0) {
    return cmd_verify(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "cert") == 0) {
    return cmd_cert(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "ech") == 0) {
    return cmd_ech(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "ocsp") == 0) {
    return cmd_ocsp(argc - 1, argv + 1);
  }
  fprintf(stderr, "moat: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return 2;
}
