/* placeholder until the subcommand lands */
#include <stdio.h>
#include "tools.h"
int cmd_client(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "moat client: not available in this build\n");
  return 2;
}
