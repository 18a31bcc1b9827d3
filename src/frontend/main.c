/* ringside: the command-line entry point (cli.c and the cmd_*.c files do the work). */
#include "frontend/cli.h"

#ifndef RINGSIDE_GUEST_DIR
#define RINGSIDE_GUEST_DIR ""
#endif

int main(int argc, char **argv)
{
    return cli_main(argc, argv, RINGSIDE_GUEST_DIR);
}
