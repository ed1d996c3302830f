/* fuzz.h: what the libFuzzer targets share: the input as a temporary file
 * (for the loaders that read files or descriptors). */
#ifndef RECIO_FUZZ_H
#define RECIO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as the contents of one temporary file (made once, rewritten
 * each time): its path; its descriptor, at offset 0, in *fd. */
static inline const char *
fuzz_file(const uint8_t *data, size_t size, int *fd)
{
	static char path[] = "/tmp/recio-fuzz.XXXXXX";
	static int f = -1;

	if (f < 0 && (f = mkstemp(path)) < 0)
		abort();
	if (ftruncate(f, 0) < 0 || pwrite(f, data, size, 0) != (ssize_t)size || lseek(f, 0, SEEK_SET) != 0)
		abort();
	if (fd)
		*fd = f;
	return path;
}

#endif
