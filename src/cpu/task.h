/* Hardware task switches (see task.c). */
#ifndef RINGSIDE_TASK_H
#define RINGSIDE_TASK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum task_reason {
    TASK_JMP,  /* far JMP to a TSS or task gate: the old task is left (busy cleared) */
    TASK_CALL, /* far CALL: nested (back link, NT), the old task stays busy */
    TASK_INT,  /* interrupt or exception through a task gate: nested, like CALL */
    TASK_IRET, /* IRET with NT: back to the task in the back link */
};

/* Switches to the task whose 32-bit TSS descriptor `sel` names. For TASK_INT, `vector` is the
 * event's vector, and an error code (has_error) is pushed on the new task's stack. ext is the
 * EXT bit for error codes. Raises #GP/#TS/#NP/#SS as the SDM says (does not return then). */
void task_switch(struct cpu *c, uint16_t sel, enum task_reason why, unsigned vector,
                 bool has_error, uint32_t error, uint32_t ext);

#endif
