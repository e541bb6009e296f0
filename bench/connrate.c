/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * New-connection and request/response load between two network namespaces.
 *
 *   connrate server ADDR PORT           port PORT: accept and close at once (connection rate);
 *                                       port PORT+1: echo each byte back (request/response)
 *   connrate conn ADDR PORT CLIENTS SECS
 *       CLIENTS threads, each: connect() (timed: SYN -> SYN/ACK, i.e. the path of a new
 *       connection through every filter), wait for the server's FIN, close(). The server
 *       closes first, so TIME_WAIT stays on its side and the client never runs out of ports.
 *   connrate rr ADDR PORT SECS          one connection, one byte each way, timed per exchange
 *
 * Client modes print one JSON object: count, rate per second, median/p90/p99 in microseconds,
 * and errors (failed connects: a filter that drops shows up here, never as a hang: connect
 * times out after 1 s). Built for the datapath section of docs/benchmarks.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNRATE_MAX_SAMPLES (1u << 22)
#define CONNRATE_MAX_CLIENTS 64

static struct sockaddr_in connrate_addr;
static double connrate_secs;
static atomic_bool connrate_stop;

struct connrate_worker {
	pthread_t thread;
	uint32_t *us; /* samples in microseconds */
	size_t n, cap;
	unsigned long errors;
};

static double connrate_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void connrate_sample(struct connrate_worker *w, double secs)
{
	if (w->n < w->cap)
		w->us[w->n] = (uint32_t)(secs * 1e6 + 0.5);
	w->n++;
}

static int connrate_listen(uint16_t port)
{
	struct sockaddr_in a = connrate_addr;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_port = htons(port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		perror("connrate: listen");
		exit(1);
	}
	return fd;
}

static void *connrate_accept_close(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void *connrate_echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg, one = 1;
	char buf[256];
	ssize_t n;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	return NULL;
}

static void *connrate_echo(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, connrate_echo_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

static int connrate_server(uint16_t port)
{
	int cfd = connrate_listen(port), efd = connrate_listen((uint16_t)(port + 1));
	pthread_t t[3];

	/* Two acceptors: the client and the softirq work share two cores with us. */
	pthread_create(&t[0], NULL, connrate_accept_close, (void *)(intptr_t)cfd);
	pthread_create(&t[1], NULL, connrate_accept_close, (void *)(intptr_t)cfd);
	pthread_create(&t[2], NULL, connrate_echo, (void *)(intptr_t)efd);
	printf("ready\n");
	fflush(stdout);
	pthread_join(t[0], NULL);
	return 0;
}

static void *connrate_conn_worker(void *arg)
{
	struct connrate_worker *w = arg;
	struct timeval tmo = {.tv_sec = 1};
	char c;

	while (!atomic_load_explicit(&connrate_stop, memory_order_relaxed)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		double t0;

		if (fd < 0) {
			w->errors++;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		t0 = connrate_now();
		if (connect(fd, (struct sockaddr *)&connrate_addr, sizeof(connrate_addr)) < 0) {
			w->errors++;
			close(fd);
			continue;
		}
		connrate_sample(w, connrate_now() - t0);
		if (read(fd, &c, 1) != 0) /* the server's FIN */
			w->errors++;
		close(fd);
	}
	return NULL;
}

static void *connrate_rr_worker(void *arg)
{
	struct connrate_worker *w = arg;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	char c = 'x';

	if (fd < 0 || connect(fd, (struct sockaddr *)&connrate_addr, sizeof(connrate_addr)) < 0) {
		perror("connrate: rr connect");
		w->errors++;
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!atomic_load_explicit(&connrate_stop, memory_order_relaxed)) {
		double t0 = connrate_now();

		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
			w->errors++;
			break;
		}
		connrate_sample(w, connrate_now() - t0);
	}
	close(fd);
	return NULL;
}

static int connrate_ucmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int connrate_client(void *(*fn)(void *), int clients, const char *mode)
{
	static struct connrate_worker w[CONNRATE_MAX_CLIENTS];
	size_t total = 0, kept = 0;
	unsigned long errors = 0;
	uint32_t *all;
	double t0, elapsed;

	for (int i = 0; i < clients; i++) {
		w[i].cap = CONNRATE_MAX_SAMPLES / (size_t)clients;
		if (!(w[i].us = malloc(w[i].cap * sizeof(uint32_t))))
			return 1;
	}
	t0 = connrate_now();
	for (int i = 0; i < clients; i++)
		pthread_create(&w[i].thread, NULL, fn, &w[i]);
	while (connrate_now() - t0 < connrate_secs)
		usleep(10000);
	atomic_store(&connrate_stop, true);
	for (int i = 0; i < clients; i++)
		pthread_join(w[i].thread, NULL);
	elapsed = connrate_now() - t0;
	for (int i = 0; i < clients; i++) {
		total += w[i].n;
		kept += w[i].n < w[i].cap ? w[i].n : w[i].cap;
		errors += w[i].errors;
	}
	if (!(all = malloc((kept ? kept : 1) * sizeof(uint32_t))))
		return 1;
	kept = 0;
	for (int i = 0; i < clients; i++) {
		size_t n = w[i].n < w[i].cap ? w[i].n : w[i].cap;

		memcpy(all + kept, w[i].us, n * sizeof(uint32_t));
		kept += n;
	}
	qsort(all, kept, sizeof(uint32_t), connrate_ucmp);
#define PCT(p) (kept ? all[(size_t)((p) / 100.0 * (double)(kept - 1) + 0.5)] : 0)
	printf("{\"mode\": \"%s\", \"clients\": %d, \"seconds\": %.3f, \"count\": %zu, "
	       "\"per_sec\": %.1f, \"median_us\": %u, \"p90_us\": %u, \"p99_us\": %u, "
	       "\"errors\": %lu}\n",
	       mode, clients, elapsed, total, (double)total / elapsed, PCT(50), PCT(90), PCT(99),
	       errors);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: connrate server ADDR PORT | conn ADDR PORT CLIENTS SECS | "
				"rr ADDR PORT SECS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	connrate_addr.sin_family = AF_INET;
	connrate_addr.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &connrate_addr.sin_addr) != 1) {
		fprintf(stderr, "connrate: bad address %s\n", argv[2]);
		return 2;
	}
	if (strcmp(argv[1], "server") == 0)
		return connrate_server((uint16_t)atoi(argv[3]));
	if (strcmp(argv[1], "conn") == 0 && argc == 6) {
		int clients = atoi(argv[4]);

		connrate_secs = atof(argv[5]);
		if (clients < 1 || clients > CONNRATE_MAX_CLIENTS)
			return 2;
		return connrate_client(connrate_conn_worker, clients, "conn");
	}
	if (strcmp(argv[1], "rr") == 0 && argc == 5) {
		connrate_secs = atof(argv[4]);
		return connrate_client(connrate_rr_worker, 1, "rr");
	}
	return 2;
}
