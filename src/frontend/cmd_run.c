/* `ringside run IMAGE` and `ringside demo`: one run of a guest, the image given or the bundled
 * demo kernel with its programs. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/cli.h"
#include "frontend/commands.h"
#include "frontend/options.h"
#include "frontend/report.h"
#include "frontend/session.h"

#define DEMO_IMAGE "kernel.elf" /* the demo kernel, in the guest directory */
#define DEMO_CMDLINE "init=hello,syscalls,compute,spin,nullderef cpulimit=30"

/* The demo's programs (see guests/scenarios/demo.scn), relative to the guest directory. */
static const char *const demo_modules[] = {
    "user/hello.elf", "user/syscalls.elf", "user/compute.elf", "user/spin.elf",
    "user/nullderef.elf",
};

/* One session: open, run, close. */
static int run_session(const struct session_options *opt, const struct boot_params *boot,
                       struct console *con)
{
    struct session s;
    if (session_open(&s, opt, boot, con))
        session_run(&s);
    return session_close(&s);
}

int cmd_run_main(struct cli_options *o, const struct cli_env *env)
{
    struct boot_params bp = {
        .image = o->operand, .append = o->append,
        .modules = o->modules.items, .nmodules = o->modules.n,
    };
    return run_session(&o->run, &bp, env->con);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The directory holding the demo kernel: guest_dir (the build's guests), else guests/ next to
 * the executable. Fills out; returns false after one line on stderr. */
static bool find_demo(const char *guest_dir, char *out, size_t outlen)
{
    const char *first = guest_dir && *guest_dir ? guest_dir : "(no build directory)";
    char probe[4400];
    if (guest_dir && *guest_dir) {
        snprintf(probe, sizeof probe, "%s/%s", guest_dir, DEMO_IMAGE);
        if (is_file(probe) && (size_t)snprintf(out, outlen, "%s", guest_dir) < outlen)
            return true;
    }
    char exe[4096], second[4200] = "(unknown: /proc/self/exe unreadable)";
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(second, sizeof(second), "%s/guests", exe);
        snprintf(probe, sizeof probe, "%s/%s", second, DEMO_IMAGE);
        if (is_file(probe) && (size_t)snprintf(out, outlen, "%s", second) < outlen)
            return true;
    }
    report("demo kernel %s not found in %s or %s; build the guests or use 'ringside run IMAGE'",
           DEMO_IMAGE, first, second);
    return false;
}

int cmd_demo_main(struct cli_options *o, const struct cli_env *env)
{
    char dir[4300];
    if (!find_demo(env->guest_dir, dir, sizeof dir))
        return CLI_EXIT_USAGE;
    /* Paths relative to the guest directory, so the kernel sees the same strings (and the run
     * is the same, event for event) wherever Ringside is built. */
    struct boot_params bp = {
        .image = DEMO_IMAGE, .append = DEMO_CMDLINE,
        .modules = demo_modules, .nmodules = sizeof demo_modules / sizeof demo_modules[0],
        .dir = dir,
    };
    return run_session(&o->run, &bp, env->con);
}
