/* upper: an interactive program. Reads lines from the console and echoes them in upper case.
 * It stops at "quit", at end of input (Ctrl-D), or when no one types for a while: the kernel's
 * read() then returns 0, so the program ends the same way with no one at the keyboard. */
#include "ulib.h"

int main(void)
{
    char line[128];
    unsigned lines = 0;
    printf("upper: type lines to see them in upper case (\"quit\" or Ctrl-D ends)\n");
    for (;;) {
        long n = read(FD_STDIN, line, sizeof(line));
        if (n < 0) {
            printf("upper: read failed: %s\n", errname(n));
            return 1;
        }
        if (n == 0) {
            printf("upper: end of input\n");
            break;
        }
        if (n >= 4 && line[0] == 'q' && line[1] == 'u' && line[2] == 'i' && line[3] == 't')
            break;
        for (long i = 0; i < n; i++)
            if (line[i] >= 'a' && line[i] <= 'z')
                line[i] = (char)(line[i] - 'a' + 'A');
        write(FD_STDOUT, "upper: ", 7);
        write(FD_STDOUT, line, (size_t)n);
        if (line[n - 1] != '\n')
            write(FD_STDOUT, "\n", 1);
        lines++;
    }
    printf("upper: %u lines\n", lines);
    return 0;
}
