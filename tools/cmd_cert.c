/* placeholder until the subcommand lands */
#include <stdio.h>
#include "tools.h"
int cmd_cert(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "moat cert: not available in this build\n");
  return 2;
}
