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

/* Switches to the task whose 32-bit TSS descriptor `sel` names. For TASK_INT, `event` is the
 * exception or interrupt delivered through the task gate (its vector and detail go into the
 * TR_TASK event, and its error code, if any, is pushed on the new task's stack); NULL
 * otherwise. ext is the EXT bit for error codes. Raises #GP/#TS/#NP/#SS as the SDM says (does
 * not return then). Emits TR_CR3 when it loads CR3 (paging on) and TR_TASK when done. */
void task_switch(struct cpu *c, uint16_t sel, enum task_reason why, const struct fault *event,
                 uint32_t ext);

#endif
