/* The one monotonic clock vm measures time-outs and durations with. */
#pragma once

/* Milliseconds on a monotonic clock (never steps back), for deadlines. */
long long clock_now_ms(void);
