/* placeholder */
#include "frontend/cli.h"
#include "frontend/commands.h"
int cmd_export_main(struct cli_options *o, const struct cli_env *env)
{
    (void)o;
    (void)env;
    return CLI_EXIT_USAGE;
}
