/* Named points where a test stops vm (SIGSTOP) to kill it there for real:
 * VM_TEST_STOP_AT=NAME[,NAME...] in the environment, each point stopped at
 * once. Nothing happens otherwise. */
#pragma once

void fault_point(const char *name);
