/* test_policy.c - the process table's seccomp data, checked as data: what
 * the argument filters must never allow, in every confined process. */
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "../../common/ipc/counters.h"
#include "../../common/ipc/proto.h"
#include "../../policy/policy.h"
#include "tap.h"

static int
listed(const struct policy_entry *e, int nr)
{
	size_t i;

	for (i = 0; i < e->nsyscalls; i++)
		if (e->syscalls[i] == nr)
			return 1;
	return 0;
}

/* A rule that pins argument arg to exactly value (an EQ condition). */
static int
pins(const struct sandbox_rule *r, unsigned arg, uint64_t *value_r)
{
	unsigned i;

	for (i = 0; i < SANDBOX_MAX_CONDS; i++)
		if (r->cond[i].op == SANDBOX_CMP_EQ && r->cond[i].arg == arg) {
			*value_r = r->cond[i].value;
			return 1;
		}
	return 0;
}

/* A rule that requires bits to be clear in argument arg. */
static int
clears(const struct sandbox_rule *r, unsigned arg, uint64_t bits)
{
	unsigned i;

	for (i = 0; i < SANDBOX_MAX_CONDS; i++)
		if (r->cond[i].op == SANDBOX_CMP_MASKED_EQ && r->cond[i].arg == arg &&
		    (r->cond[i].mask & bits) == bits && (r->cond[i].value & bits) == 0)
			return 1;
	return 0;
}

static int
fcntl_rule_ok(const struct sandbox_rule *r)
{
	static const uint64_t never[] = { F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY,
	    F_DUPFD, F_DUPFD_CLOEXEC };
	uint64_t cmd;
	size_t i;

	if (!pins(r, 1, &cmd))
		return 0;	/* every fcntl rule names its command */
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (cmd == never[i])
			return 0;
	return cmd != F_SETFL || clears(r, 2, O_ASYNC);
}

static void
test_entry(const struct policy_entry *e)
{
	char name[96];
	size_t i;
	int ok_fcntl = 1, ok_mem = 1, overlap = 0, has_mmap = 0;

	for (i = 0; i < e->nrules; i++) {
		const struct sandbox_rule *r = &e->rules[i];
		overlap |= listed(e, r->syscall);
		if (r->syscall == SCMP_SYS(fcntl))
			ok_fcntl &= fcntl_rule_ok(r);
		if (r->syscall == SCMP_SYS(mmap) || r->syscall == SCMP_SYS(mprotect) ||
		    r->syscall == SCMP_SYS(pkey_mprotect))
			ok_mem &= clears(r, 2, PROT_EXEC);
		has_mmap |= r->syscall == SCMP_SYS(mmap);
	}
	snprintf(name, sizeof(name), "%s: no call both plain and argument-filtered", e->name);
	CHECK(!overlap, name);
	snprintf(name, sizeof(name), "%s: fcntl only named commands, no SETOWN/SETSIG/O_ASYNC", e->name);
	CHECK(ok_fcntl, name);
	snprintf(name, sizeof(name), "%s: mmap/mprotect never with PROT_EXEC", e->name);
	CHECK(ok_mem && has_mmap, name);
	snprintf(name, sizeof(name), "%s: no plain fcntl, mmap, mprotect, ioctl, kill", e->name);
	CHECK(!listed(e, SCMP_SYS(fcntl)) && !listed(e, SCMP_SYS(mmap)) &&
	    !listed(e, SCMP_SYS(mprotect)) && !listed(e, SCMP_SYS(pkey_mprotect)) &&
	    !listed(e, SCMP_SYS(ioctl)) && !listed(e, SCMP_SYS(kill)) &&
	    !listed(e, SCMP_SYS(tgkill)), name);
}

/* stored renames and unlinks but opens nothing for writing after its filter. */
static void
test_stored_opens_read_only(void)
{
	const struct policy_entry *e = &policy_table[POLICY_STORED];
	size_t i;
	int n = 0, ok = 1;

	for (i = 0; i < e->nrules; i++)
		if (e->rules[i].syscall == SCMP_SYS(openat)) {
			n++;
			ok &= clears(&e->rules[i], 2, POLICY_ACCMODE | O_CREAT | O_TRUNC | O_APPEND);
		}
	CHECK(n > 0 && ok && !listed(e, SCMP_SYS(openat)) && !listed(e, SCMP_SYS(open)) &&
	    !listed(e, SCMP_SYS(creat)) && !listed(e, SCMP_SYS(openat2)), "stored: openat only read-only");
}

/* The slots the rows name are the numbers the children were built with. */
static void
test_fd_slots(void)
{
	int by_slot[SLOT_COUNT], out[POLICY_MAX_SLOTS], i;
	size_t p;

	CHECK(policy_fd(POLICY_POP3D, SLOT_CLIENT) == FD_CLIENT &&
	    policy_fd(POLICY_POP3D, SLOT_CONTROL) == FD_CONTROL &&
	    policy_fd(POLICY_POP3D, SLOT_AUTHD) == FD_AUTH &&
	    policy_fd(POLICY_POP3D, SLOT_KEYD) == FD_KEYD, "slots: worker fds agree with proto.h");
	CHECK(policy_fd(POLICY_AUTHD, SLOT_MASTER) == FD_PARENT &&
	    policy_fd(POLICY_KEYD, SLOT_MASTER) == FD_PARENT &&
	    policy_fd(POLICY_STORED, SLOT_WORKER) == FD_PARENT, "slots: broker and stored fd 3");
	CHECK(policy_fd(POLICY_AUTHD, SLOT_COUNTERS) == COUNTERS_FD &&
	    policy_fd(POLICY_KEYD, SLOT_COUNTERS) == COUNTERS_FD, "slots: the brokers' counters page");
	CHECK(policy_fd(POLICY_METRICSD, SLOT_CLIENT) == FD_CLIENT &&
	    policy_fd(POLICY_METRICSD, SLOT_SNAPSHOT) == METRICS_SNAPSHOT_FD &&
	    policy_fd(POLICY_METRICSD, SLOT_AUTHD) < 0 && policy_fd(POLICY_METRICSD, SLOT_KEYD) < 0 &&
	    policy_fd(POLICY_METRICSD, SLOT_CONTROL) < 0,
	    "slots: metricsd holds the client and the snapshot, no channel");
	for (p = 0; p < POLICY_NPROCS; p++) {
		const struct policy_entry *e = &policy_table[p];
		CHECK(e->nslots >= 2 && e->nslots <= POLICY_MAX_SLOTS &&
		    e->slots[e->nslots - 1] == SLOT_CONFIG, "slots: every row ends with the config");
		CHECK(policy_fd((enum policy_proc)p, SLOT_CLIENT) < 0 || e->net_parser,
		    "slots: only network parsers hold a client");
	}
	for (i = 0; i < SLOT_COUNT; i++)
		by_slot[i] = 100 + i;
	CHECK(policy_arrange_fds(POLICY_POP3D, by_slot, out, POLICY_MAX_SLOTS) == 5 &&
	    out[0] == 100 + SLOT_CLIENT && out[3] == 100 + SLOT_KEYD && out[4] == 100 + SLOT_CONFIG,
	    "slots: arranged in the row's order");
	by_slot[SLOT_AUTHD] = -1;
	CHECK(policy_arrange_fds(POLICY_POP3D, by_slot, out, POLICY_MAX_SLOTS) == -1,
	    "slots: a missing fd refuses the spawn");
	CHECK(policy_arrange_fds(POLICY_STORED, by_slot, out, POLICY_MAX_SLOTS) == 2 &&
	    out[0] == 100 + SLOT_WORKER, "slots: an fd the row does not name is not passed");
	CHECK(policy_arrange_fds(POLICY_POP3D, by_slot, out, 2) == -1, "slots: too small out");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < POLICY_NPROCS; i++)
		test_entry(&policy_table[i]);
	test_stored_opens_read_only();
	test_fd_slots();
	return tap_done();
}
