/* The table of `ringside` commands (see commands.h). */
#include "frontend/commands.h"

#include <string.h>

/* After the options of every command that runs a guest. */
static const char run_notes[] =
    "--log items (comma-separated): insn, every instruction before it runs; regs,\n"
    "the same with the registers; int, each exception, interrupt, INT n, IRET, gate\n"
    "transfer, SYSENTER/SYSEXIT and HLT (like QEMU's -d int); unimp, the first\n"
    "access to each port or MMIO address that no device claims.\n"
    "\n"
    "--gdb: a GDB remote stub (on 127.0.0.1 unless HOST is given); then\n"
    "gdb IMAGE -ex 'target remote :PORT'; 'monitor help' lists Ringside's own\n"
    "commands (break mode, info idt, ...). 3 is the exit status after gdb's kill.\n"
    "\n"
    "The guest's COM1 (16550 UART at 0x3F8) is stdout; a write of V to port 0xF4\n"
    "(isa-debug-exit) ends the run with exit status (V << 1) | 1.\n"
    "exit status: guest's debug-exit status; 0 cpu halted with interrupts off;\n"
    "  1 host failure (out of memory); 2 bad usage or input (also: stdout closed);\n"
    "  4 triple fault; 6 the guest entered virtual-8086 mode (not supported);\n"
    "  8 stdout or the log file could not be written (e.g. disk full); 10 stdout's\n"
    "  reader went away (broken pipe); 124 instruction limit reached.\n";

const struct cli_command cli_commands[CLI_CMD_COUNT] = {
    [CLI_CMD_RUN] = {
        .name = "run",
        .operand = "IMAGE",
        .summary = "run an ELF32 or Multiboot v1 image",
        .missing = "run needs an IMAGE (usage: ringside run IMAGE [options])",
        .extra_hint = ": one image only (modules go in --module)",
        .notes = run_notes,
        .main = cmd_run_main,
    },
    [CLI_CMD_DEMO] = {
        .name = "demo",
        .summary = "run the bundled demo guest",
        .extra_hint = " (the demo takes no image; use 'ringside run IMAGE')",
        .foreign_hint = " (the demo has its own modules and command line; use 'ringside run "
                        "IMAGE' for others)",
        .notes = run_notes,
        .main = cmd_demo_main,
    },
    [CLI_CMD_HELP] = {
        .name = "help",
        .operand = "[COMMAND]",
        .summary = "print the usage, or COMMAND's options",
        .extra_hint = " (help takes one COMMAND)",
        .main = cmd_help_main,
    },
    [CLI_CMD_REPLAY] = {
        .name = "replay",
        .operand = "TRACE",
        .summary = "re-run a recorded guest, compare events",
        .missing = "replay needs a TRACE (usage: ringside replay TRACE)",
        .extra_hint = " (replay takes one TRACE)",
        .notes = "A trace is made with --record FILE (run, demo). Exit status: 0 every event\n"
                 "identical; 1 the runs diverge (both events are shown); 2 a bad, truncated\n"
                 "or changed trace, image or module (one line). With --gdb (-s, -S) the\n"
                 "recorded run is served to gdb instead, reverse execution included.\n",
        .main = cmd_replay_main,
    },
    [CLI_CMD_LOG] = {
        .name = "log",
        .operand = "TRACE",
        .summary = "print a recorded trace's events",
        .missing = "log needs a TRACE (usage: ringside log TRACE [options])",
        .extra_hint = " (log takes one TRACE)",
        .notes = "Text lines are the --log int lines; jsonl is one JSON object per event\n"
                 "(docs/trace-format.md). A truncated or damaged trace prints what it\n"
                 "holds, then one line on stderr, and exits with status 2.\n",
        .main = cmd_log_main,
    },
    [CLI_CMD_EXPORT] = {
        .name = "export",
        .operand = "TRACE",
        .summary = "a recorded trace as Perfetto JSON",
        .missing = "export needs a TRACE (usage: ringside export TRACE --perfetto OUT)",
        .extra_hint = " (export takes one TRACE)",
        .main = cmd_export_main,
    },
    [CLI_CMD_VIEW] = {
        .name = "view",
        .operand = "TRACE",
        .summary = "show a recorded trace in a window (SDL)",
        .missing = "view needs a TRACE (usage: ringside view TRACE [--screenshot OUT])",
        .extra_hint = " (view takes one TRACE)",
        .notes = "The timeline has one lane per ring; the CPU's path is coloured by process.\n"
                 "Press h in the window for the keys. --screenshot renders one frame without\n"
                 "a display. Exit status 2: a bad trace, no display, no font.\n",
        .main = cmd_view_main,
    },
};

const struct cli_command *cli_command_find(const char *name)
{
    for (unsigned i = 0; i < CLI_CMD_COUNT; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

enum cli_command_id cli_command_id(const struct cli_command *cmd)
{
    return (enum cli_command_id)(cmd - cli_commands);
}
