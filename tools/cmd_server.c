/* placeholder until the subcommand lands */
#include <stdio.h>
#include "tools.h"
int cmd_server(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "moat server: not available in this build\n");
  return 2;
}
