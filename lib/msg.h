/* msg.h: writing recio messages (see recio-messages(7)) to stdout.
 *
 * msg_begin starts {"type":TYPE,"ts":TS in a reused buffer; the caller
 * adds fields with the jw_* writers; msg_emit closes the object, appends a
 * newline and writes the whole line with write(2) (no stdio buffering, so
 * a line is never split between two writes that another process could
 * interleave, and live consumers see it at once).  A write error (EPIPE, a
 * full disk) is fatal: "prog: stdout: reason", exit 1; a line is never
 * silently dropped. */
#ifndef RECIO_MSG_H
#define RECIO_MSG_H

#include <signal.h>
#include <stdint.h>
#include "buf.h"

void msg_begin(struct buf *b, const char *type, int64_t ts_ms);
void msg_emit(struct buf *b);
/* Optional, for a tool whose SIGTERM handler sets *flag (without
 * SA_RESTART): when a line's write is interrupted by a signal and *flag is
 * set, the reader is not reading and the tool is told to stop, so the line
 * is given up (said on stderr) and the process exits 0 rather than wait on
 * the reader forever.  A pipe takes a line of up to PIPE_BUF bytes whole or
 * not at all, so no part-line is left.  Without it (the default), or for
 * write_all, a write waits as long as it takes. */
void msg_stop_flag(volatile sig_atomic_t *flag);
/* Where lines go: stdout, unless RECIO_OUT lists destinations, separated
 * by spaces: "-" (stdout, every line) or PATH[=TYPE,TYPE...] (a FIFO,
 * opened read-write so that the writer never blocks on open nor gets
 * SIGPIPE and the FIFO's buffer outlives a restart of its reader; or a
 * file, appended to), taking only the lines of those types when given.
 * Set up on the first line; a destination that cannot be opened is fatal.
 * See s6/README. */
/* Tell the supervisor this tool is ready: a newline to the descriptor
 * named by RECIO_READY_FD (s6's notification-fd), once, then closed.  No
 * effect without it. */
void msg_ready(void);
/* Write all of s[0..n) to fd, restarting after EINTR and short writes.
 * 0, or -1 with errno set. */
int write_all(int fd, const char *s, size_t n);

#endif
