/* The moat command: one file per subcommand, each an entry point here. */
#ifndef MOAT_TOOLS_H
#define MOAT_TOOLS_H

int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_ech(int argc, char **argv);
int cmd_ocsp(int argc, char **argv);

#endif
