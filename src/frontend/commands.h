/* The table of `ringside` commands: where a command registers.
 *
 * To add a command: an id below (before CLI_CMD_COUNT), its row in cli_commands (commands.c),
 * its main function in a file of its own (cmd_NAME.c), and its bit in the `commands` mask of
 * each option it accepts (options.c). Parsing, the "does not apply" check and the usage text
 * follow from the tables.
 */
#ifndef RINGSIDE_COMMANDS_H
#define RINGSIDE_COMMANDS_H

struct cli_options;
struct console;

enum cli_command_id {
    CLI_CMD_RUN,    /* run IMAGE */
    CLI_CMD_DEMO,   /* the bundled demo guest; also the command when none is named */
    CLI_CMD_HELP,   /* help [COMMAND] */
    CLI_CMD_REPLAY, /* replay TRACE */
    CLI_CMD_LOG,    /* log TRACE */
    CLI_CMD_EXPORT, /* export TRACE */
    CLI_CMD_VIEW,   /* view TRACE */
    CLI_CMD_COUNT
};

#define CLI_CMD_BIT(id) (1u << (id))                 /* a command in an option's mask */
#define CLI_CMDS_ALL ((1u << CLI_CMD_COUNT) - 1)      /* the mask of every command */
#define CLI_CMD_DEFAULT CLI_CMD_DEMO                  /* `ringside` and `ringside --opt ...` */

/* What every command's main function is handed besides its options. */
struct cli_env {
    const char *guest_dir;    /* where the bundled guests are looked for first */
    struct console *con;      /* stdout, watched for write errors */
};

struct cli_command {
    const char *name;         /* as typed: "run" */
    const char *operand;      /* its one argument: "IMAGE" (required), "[COMMAND]" (may be
                                 left out), NULL (takes none) */
    const char *summary;      /* one line for the usage text */
    const char *missing;      /* the error line when a required operand is missing */
    const char *extra_hint;   /* appended to "unexpected argument 'X'" */
    const char *foreign_hint; /* appended to "--opt does not apply to 'NAME'", or NULL */
    const char *notes;        /* printed after its options in its help, or NULL */
    /* Runs the command; returns the exit status. */
    int (*main)(struct cli_options *o, const struct cli_env *env);
};

/* Indexed by enum cli_command_id. */
extern const struct cli_command cli_commands[CLI_CMD_COUNT];

/* The command named name, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* Its index in cli_commands. */
enum cli_command_id cli_command_id(const struct cli_command *cmd);

/* The mains (one file each). */
int cmd_run_main(struct cli_options *o, const struct cli_env *env);   /* cmd_run.c */
int cmd_demo_main(struct cli_options *o, const struct cli_env *env);  /* cmd_run.c */
int cmd_help_main(struct cli_options *o, const struct cli_env *env);  /* cmd_help.c */
int cmd_replay_main(struct cli_options *o, const struct cli_env *env); /* cmd_replay.c */
int cmd_log_main(struct cli_options *o, const struct cli_env *env);    /* cmd_log.c */
int cmd_export_main(struct cli_options *o, const struct cli_env *env); /* cmd_export.c */
int cmd_view_main(struct cli_options *o, const struct cli_env *env);   /* view/cmd_view.c */

#endif
