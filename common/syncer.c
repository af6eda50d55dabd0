/* SPDX-License-Identifier: MIT */
/*
 * The syncer's thread waits for a request above what is durable, notes the
 * target, runs fdatasync() without holding the lock, then publishes the
 * target as durable and writes the eventfd. Records the owner appends
 * during a sync are picked up by the next round: that is the group commit.
 */
#include "common/syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct syncer {
	int fd;	 /* the file; borrowed */
	int efd; /* completion eventfd; owned */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	uint64_t requested; /* highest seq asked for; under lock */
	uint64_t durable;   /* highest seq synced; under lock */
	int err;	    /* last sync error (negative errno), 0 if none; under lock */
	bool busy;	    /* the thread is in fdatasync(); under lock */
	bool stop;	    /* under lock */
};

static void *syncer_main(void *arg)
{
	struct syncer *s = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t target;
		int fd, r;

		while (!s->stop && s->requested <= s->durable)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->stop)
			break;
		target = s->requested;
		fd = s->fd;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		r = fdatasync(fd) ? -errno : 0;
		pthread_mutex_lock(&s->lock);
		s->busy = false;
		if (r == 0 && target > s->durable)
			s->durable = target;
		else if (r < 0) {
			s->err = r;
			s->requested = s->durable; /* wait for a new request before retrying */
		}
		/* An eventfd counter cannot overflow here: the loop drains it. */
		(void)!write(s->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int syncer_new(struct syncer **ret, int fd)
{
	struct syncer *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		r = -errno;
		free(s);
		return r;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	r = -pthread_create(&s->thread, NULL, syncer_main, s);
	if (r < 0) {
		close(s->efd);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void syncer_free(struct syncer *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	close(s->efd);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void syncer_request(struct syncer *s, uint64_t seq)
{
	pthread_mutex_lock(&s->lock);
	if (seq > s->requested) {
		s->requested = seq;
		/* A busy thread looks at 'requested' again when it is done: no wake-up needed. */
		if (!s->busy)
			pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
}

int syncer_fd(const struct syncer *s)
{
	return s->efd;
}

int64_t syncer_collect(struct syncer *s)
{
	uint64_t n, durable;
	int err;

	(void)!read(s->efd, &n, sizeof(n));
	pthread_mutex_lock(&s->lock);
	durable = s->durable;
	err = s->err;
	s->err = 0;
	pthread_mutex_unlock(&s->lock);
	return err ? err : (int64_t)durable;
}

void syncer_set_fd(struct syncer *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	s->fd = fd;
	pthread_mutex_unlock(&s->lock);
}

uint64_t syncer_durable(struct syncer *s)
{
	uint64_t d;

	pthread_mutex_lock(&s->lock);
	d = s->durable;
	pthread_mutex_unlock(&s->lock);
	return d;
}
