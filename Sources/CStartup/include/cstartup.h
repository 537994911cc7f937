/*
 * cstartup.h: nothing to call. The target's one file holds a constructor
 * that runs before main in the executables that link it (backtrace_off.c).
 */
#ifndef CSTARTUP_H
#define CSTARTUP_H
#endif
