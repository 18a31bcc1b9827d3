/* `ringside help [COMMAND]`: the usage text, or one command's. */
#include <stdio.h>

#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/options.h"
#include "frontend/report.h"

int cmd_help_main(struct cli_options *o, const struct cli_env *env)
{
    (void)env;
    const struct cli_command *cmd = NULL;
    if (o->operand) {
        cmd = cli_command_find(o->operand);
        if (!cmd) {
            report("unknown command '%s' (try 'ringside --help')", o->operand);
            return CLI_EXIT_USAGE;
        }
    }
    cli_usage(stdout, cmd);
    return 0;
}
