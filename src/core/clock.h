/* clock.h — monotonic time for deadlines, back-off and latency. */
#ifndef MK_CLOCK_H
#define MK_CLOCK_H

/* Seconds on CLOCK_MONOTONIC. */
double clock_mono(void);

#endif
