/* spawner: starts the programs named by its arguments, then waits for each and shows how it
 * ended: exit(code), or killed by the kernel (with the exception vector).
 *
 *   spawner NAME...       e.g. the module string "spawner.elf hello nullderef"
 */
#include "ulib.h"

static void show_status(int pid, const char *name, int status)
{
    if (status < 0)
        printf("spawner: wait(%d) failed: %s\n", pid, errname(status));
    else if (status == STATUS_CPULIMIT)
        printf("spawner: pid %d (%s) was killed for using too much cpu time\n", pid, name);
    else if (status >= STATUS_KILLED)
        printf("spawner: pid %d (%s) was killed by exception %d\n", pid, name,
               status - STATUS_KILLED);
    else
        printf("spawner: pid %d (%s) exited with %d\n", pid, name, status);
}

int main(int argc, char **argv)
{
    int pids[8];
    int n = argc - 1 < 8 ? argc - 1 : 8;
    for (int i = 0; i < n; i++) {
        pids[i] = spawn(argv[i + 1]);
        if (pids[i] < 0)
            printf("spawner: spawn(\"%s\") failed: %s\n", argv[i + 1], errname(pids[i]));
    }
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            show_status(pids[i], argv[i + 1], wait(pids[i]));
    return 0;
}
