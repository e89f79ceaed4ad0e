/* Default time and randomness sources (both injectable per context). */
#ifndef MOAT_BASE_CLOCK_H
#define MOAT_BASE_CLOCK_H

#include <stdint.h>

int64_t moat_default_clock(void *arg);
/* Milliseconds from a monotonic clock (ticket ages). */
uint64_t moat_monotonic_ms(void);

#endif
