/* copy-file SRC DST: the copy vm archive makes of a backing file
 * (image_copy: reflink or copy_file_range, holes kept, a temporary name,
 * fsync, then the rename), for benchmarks that time it against other ways
 * of doing the same job. */
#include "storage/image.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: copy-file SRC DST\n");
		return 2;
	}
	struct error err;
	if (image_copy(argv[1], argv[2], 0, NULL, &err) < 0) {
		fprintf(stderr, "copy-file: %s\n", err.msg);
		return 1;
	}
	return 0;
}
