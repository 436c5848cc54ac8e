/*
 * seedrng.c — credit a saved random seed to the kernel at boot, then save a
 * fresh one, for the vm test guest.
 *
 * Without virtio-rng (vm's default command line has none) the guest kernel
 * under TCG needs seconds of jitter before its random pool is ready, and
 * dropbear waits for it. This does what systemd-random-seed and busybox
 * 1.36's seedrng do: feed the seed saved by the previous boot (or, on the
 * first boot of the image, the one the builder wrote) to the kernel with
 * RNDADDENTROPY, crediting it, and replace it at once with fresh output.
 *
 * A test guest's seed is not a secret (every overlay of one image starts
 * with the same one); the guest's randomness only has to be unblocked and
 * different from boot to boot, not unpredictable to its owner.
 *
 * Usage: seedrng [SEEDFILE]   (default /var/lib/seedrng/seed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#define SEED_LEN 64 /* bytes: 512 bits, the kernel's pool size */

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004 /* Linux 5.6: never blocks */
#endif

static const char default_seed[] = "/var/lib/seedrng/seed";

static int read_seed(const char *path, unsigned char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, SEED_LEN);
	close(fd);
	return n == SEED_LEN ? 0 : -1;
}

static int credit_seed(const unsigned char *seed)
{
	struct {
		struct rand_pool_info info;
		unsigned char data[SEED_LEN];
	} req;
	int fd, rc;

	req.info.entropy_count = SEED_LEN * 8;
	req.info.buf_size = SEED_LEN;
	memcpy(req.data, seed, SEED_LEN);
	fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = ioctl(fd, RNDADDENTROPY, &req);
	close(fd);
	return rc;
}

/* Written to a temporary file and renamed: a crash leaves the old seed. */
static int save_seed(const char *path)
{
	unsigned char buf[SEED_LEN];
	char tmp[4096];
	int fd;

	/* Never blocks: after the credit above the pool is ready anyway. */
	if (getrandom(buf, sizeof(buf), GRND_INSECURE) != sizeof(buf))
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, sizeof(buf)) != sizeof(buf) || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : default_seed;
	unsigned char seed[SEED_LEN];
	int status = 0;

	if (read_seed(path, seed) != 0) {
		fprintf(stderr, "seedrng: %s: no usable seed\n", path);
		status = 1;
	} else if (credit_seed(seed) != 0) {
		fprintf(stderr, "seedrng: crediting the seed: %s\n",
			strerror(errno));
		status = 1;
	}
	/* Never the same seed twice, whatever happened above. */
	if (save_seed(path) != 0) {
		fprintf(stderr, "seedrng: saving a new seed to %s: %s\n", path,
			strerror(errno));
		status = 1;
	}
	return status;
}
