/* The QMP client against a scripted fake QEMU on the other end of a
 * socketpair: greeting, capabilities, ids, events in between, time-outs,
 * error replies. */
#include "emulator/qmp.h"
#include "fake_qemu.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Test(qmp, greets_negotiates_and_runs_a_command_with_an_id)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"query-status",
	     "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": @ID}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	char *status;
	cr_assert_eq(qmp_query_status(&q, &status, &err), 0, "%s", err.msg);
	cr_assert_str_eq(status, "running");
	cr_assert(strstr(p.last_request, "\"id\":\"vm-2\""), "%s", p.last_request);
	free(status);
	qmp_close(&q);
	stop_peer(&p);
	cr_assert_str_eq(p.seen[0], "qmp_capabilities");
	cr_assert_str_eq(p.seen[1], "query-status");
}

Test(qmp, keeps_events_that_arrive_before_the_reply)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"system_powerdown",
	     "{\"event\": \"POWERDOWN\", \"data\": {}}\r\n{\"event\": \"SHUTDOWN\", \"data\": "
	     "{\"guest\": true}}\r\n{\"return\": {}, \"id\": @ID}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	cr_assert_eq(qmp_execute(&q, "system_powerdown", NULL, NULL, &err), 0, "%s", err.msg);
	struct json_object *event, *data, *guest;
	cr_assert_eq(qmp_wait_event(&q, "SHUTDOWN", 100, &event, &err), 0, "%s", err.msg);
	cr_assert(json_object_object_get_ex(event, "data", &data));
	cr_assert(json_object_object_get_ex(data, "guest", &guest));
	cr_assert(json_object_get_boolean(guest));
	json_object_put(event);
	cr_assert_eq(qmp_wait_event(&q, "POWERDOWN", 100, NULL, &err), 0, "%s", err.msg);
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, waits_for_an_event_that_comes_later)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"stop", "{\"return\": {}, \"id\": @ID}\r\n"},
	    {NULL, "{\"event\": \"RESUME\"}\r\n{\"event\": \"SUSPEND\"}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	cr_assert_eq(qmp_execute(&q, "stop", NULL, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(qmp_wait_event(&q, "SUSPEND", 2000, NULL, &err), 0, "%s", err.msg);
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, an_error_reply_fails_with_its_description)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"system_wakeup",
	     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"wake-up from suspend is not "
	     "supported by this guest\"}, \"id\": @ID}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	cr_assert_eq(qmp_execute(&q, "system_wakeup", NULL, NULL, &err), -1);
	cr_assert_str_eq(err.msg, "system_wakeup: wake-up from suspend is not supported by this "
				  "guest - GenericError");
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, a_reply_to_another_id_is_skipped)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"query-name",
	     "{\"return\": {\"name\": \"stale\"}, \"id\": \"old-1\"}\r\n{\"return\": {\"name\": "
	     "\"tg\"}, \"id\": @ID}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	struct json_object *ret, *name;
	cr_assert_eq(qmp_execute(&q, "query-name", NULL, &ret, &err), 0, "%s", err.msg);
	cr_assert(json_object_object_get_ex(ret, "name", &name));
	cr_assert_str_eq(json_object_get_string(name), "tg");
	json_object_put(ret);
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, a_silent_monitor_times_out)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0], fake_qemu_handshake[1], {"query-status", NULL}, {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 300, &err), 0, "%s", err.msg);
	char *status;
	cr_assert_eq(qmp_query_status(&q, &status, &err), -1);
	cr_assert(strstr(err.msg, "no answer within 0.3 s"), "%s", err.msg);
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, no_greeting_times_out_and_says_why)
{
	const struct step steps[] = {{0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 200, &err), -1);
	cr_assert(strstr(err.msg, "no greeting from the monitor"), "%s", err.msg);
	stop_peer(&p);
}

Test(qmp, a_closed_connection_is_an_error)
{
	const struct step steps[] = {fake_qemu_handshake[0], fake_qemu_handshake[1], {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	pthread_join(p.thread, NULL);
	shutdown(p.fd, SHUT_RDWR);
	cr_assert_eq(qmp_execute(&q, "quit", NULL, NULL, &err), -1);
	cr_assert(strstr(err.msg, "closed"), "%s", err.msg);
	qmp_close(&q);
	close(p.fd);
	free(p.last_request);
}

Test(qmp, messages_split_across_reads_and_pretty_printed)
{
	const struct step steps[] = {
	    {NULL, "{\"QMP\": {\"version\""},
	    {NULL, ": {}, \"capabilities\": []}}\r\n"},
	    fake_qemu_handshake[1],
	    {"human-monitor-command",
	     "{\n  \"return\": \"VM status: paused\\r\\n\",\n  \"id\": @ID\n}\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	char *output;
	cr_assert_eq(qmp_hmp(&q, "info status", &output, &err), 0, "%s", err.msg);
	cr_assert_str_eq(output, "VM status: paused\r\n");
	cr_assert(strstr(p.last_request, "\"command-line\":\"info status\""), "%s", p.last_request);
	free(output);
	qmp_close(&q);
	stop_peer(&p);
}

Test(qmp, raw_requests_keep_their_own_id_and_return_error_replies)
{
	const struct step steps[] = {
	    fake_qemu_handshake[0],
	    fake_qemu_handshake[1],
	    {"nonsense",
	     "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nonsense has "
	     "not been found\"}, \"id\": @ID}\r\n"},
	    {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	cr_assert_eq(qmp_open_fd(&q, start_peer(&p, steps), 2000, &err), 0, "%s", err.msg);
	struct json_object *reply, *id;
	cr_assert_eq(
	    qmp_execute_raw(&q, json_tokener_parse("{\"execute\":\"nonsense\",\"id\":\"mine\"}"),
			    &reply, &err),
	    0, "%s", err.msg);
	cr_assert(json_object_object_get_ex(reply, "error", NULL));
	cr_assert(json_object_object_get_ex(reply, "id", &id));
	cr_assert_str_eq(json_object_get_string(id), "mine");
	json_object_put(reply);
	qmp_close(&q);
	stop_peer(&p);
}

/* count events called name, one a line. */
static char *events(const char *name, int count)
{
	char *text = calloc(1, 4096);
	for (int i = 0; i < count; i++)
		snprintf(text + strlen(text), 4096 - strlen(text), "{\"event\": \"%s\"}\r\n", name);
	return text;
}

Test(qmp, keeps_the_newest_events_and_no_more)
{
	/* 120 events before a reply, 60 more and the one waited for after. */
	char *chatter = events("RTC_CHANGE", 60), *before = calloc(1, 4096);
	snprintf(before, 4096, "%s%s{\"return\": {}, \"id\": @ID}\r\n", chatter, chatter);
	const struct step steps[] = {fake_qemu_handshake[0],
				     fake_qemu_handshake[1],
				     {"stop", before},
				     {NULL, chatter},
				     {NULL, "{\"event\": \"STOP\"}\r\n"},
				     {0}};
	struct peer p;
	struct qmp q;
	struct error err;
	int fd = start_peer(&p, steps);
	cr_assert_eq(qmp_open_fd(&q, fd, 2000, &err), 0, "%s", err.msg);
	int rc = qmp_execute(&q, "stop", NULL, NULL, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_eq(json_object_array_length(q.events), QMP_EVENTS_KEPT);
	cr_assert_eq(qmp_wait_event(&q, "STOP", 2000, NULL, &err), 0, "%s", err.msg);
	cr_assert_leq(json_object_array_length(q.events), QMP_EVENTS_KEPT);
	qmp_close(&q);
	stop_peer(&p);
	free(chatter);
	free(before);
}

Test(qmp, a_zeroed_connection_is_closed_and_closing_it_touches_no_fd)
{
	struct qmp q = {0};
	cr_assert_not(q.open);
	qmp_close(&q);
	cr_assert_geq(fcntl(STDIN_FILENO, F_GETFD), 0, "qmp_close closed fd 0");
	struct error err;
	cr_assert_eq(qmp_connect(&q, "/nonexistent/qmp.sock", 100, &err), -1);
	cr_assert_not(q.open);
	cr_assert_str_eq(err.msg,
			 "cannot connect to the monitor /nonexistent/qmp.sock: No such file "
			 "or directory");
	qmp_close(&q);
}
