/* ringside: the command-line entry point (all the work is in cli.c). */
#include "frontend/cli.h"

#ifndef RINGSIDE_GUEST_DIR
#define RINGSIDE_GUEST_DIR ""
#endif

int main(int argc, char **argv)
{
    return cli_main(argc, argv, RINGSIDE_GUEST_DIR);
}
