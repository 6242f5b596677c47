/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pfrag_mbuf_autotest: fragments as mbuf data. Attach, clone, chain and
 * free in any order; the fragment is freed exactly once, when its last
 * user lets go, and nothing is out at the end.
 */

#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <pfrag_mbuf.h>
#include <pfrag_mempool.h>

#include "test.h"

#define NB_HDRS 512

static struct pfrag_pool *pool;
static struct rte_mempool *hdrs;
static struct rte_mempool *clones;

static int
setup(void)
{
	pool = pfrag_pool_create("mbuf_test", SOCKET_ID_ANY, 0, 32, 0);
	hdrs = pfrag_mbuf_hdr_pool_create("mbuf_test_hdr", NB_HDRS, SOCKET_ID_ANY);
	clones = rte_pktmbuf_pool_create("mbuf_test_clone", NB_HDRS, 0, 0, 0, SOCKET_ID_ANY);
	if (pool == NULL || hdrs == NULL || clones == NULL) {
		printf("setup failed: %s\n", rte_strerror(rte_errno));
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

/* Only after a failed case: the last case frees the pool and checks it did. */
static void
teardown(void)
{
	if (pool != NULL) {
		pfrag_cache_drain(pfrag_lcore_cache(pool));
		if (pfrag_pool_free(pool) != 0)
			pfrag_pool_dump(stdout, pool);
	}
	rte_mempool_free(hdrs);
	rte_mempool_free(clones);
}

static int
check_all_back(void)
{
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "fragments out");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(hdrs), 0, "header mbufs out");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(clones), 0, "clone mbufs out");
	return TEST_SUCCESS;
}

static int
test_attach_free(void)
{
	struct rte_mbuf *m = pfrag_pktmbuf_alloc(hdrs, pool, 1500);
	char *data;

	TEST_ASSERT_NOT_NULL(m, "alloc: %s", rte_strerror(rte_errno));
	TEST_ASSERT(pfrag_mbuf_is_frag(m), "not a fragment mbuf");
	TEST_ASSERT(RTE_MBUF_HAS_EXTBUF(m), "no external buffer");
	TEST_ASSERT_EQUAL(rte_pktmbuf_headroom(m), RTE_PKTMBUF_HEADROOM, "headroom");
	TEST_ASSERT(rte_pktmbuf_tailroom(m) >= 1500, "tailroom %u", rte_pktmbuf_tailroom(m));
	TEST_ASSERT_EQUAL(rte_pktmbuf_iova(m), pfrag_iova(rte_pktmbuf_mtod(m, void *)),
			  "IOVA of the data");
	data = rte_pktmbuf_append(m, 1500);
	TEST_ASSERT_NOT_NULL(data, "append");
	memset(data, 0x5a, 1500);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "one fragment out");
	rte_pktmbuf_free(m);
	return check_all_back();
}

/* The original goes first, then the clone: the data lives until the last. */
static int
test_clone_orders(void)
{
	struct rte_mbuf *m, *c1, *c2;
	int order;

	for (order = 0; order < 3; order++) {
		m = pfrag_pktmbuf_alloc(hdrs, pool, 256);
		TEST_ASSERT_NOT_NULL(m, "alloc");
		memset(rte_pktmbuf_append(m, 256), order, 256);
		c1 = rte_pktmbuf_clone(m, clones);
		c2 = rte_pktmbuf_clone(c1, clones);
		TEST_ASSERT(c1 != NULL && c2 != NULL, "clone");
		TEST_ASSERT_EQUAL(rte_mbuf_ext_refcnt_read(m->shinfo), 3, "shared refcnt");
		TEST_ASSERT(rte_pktmbuf_mtod(c2, char *)[255] == order, "clone sees the data");
		switch (order) {
		case 0:
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(c1);
			TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "freed too early");
			rte_pktmbuf_free(c2);
			break;
		case 1:
			rte_pktmbuf_free(c2);
			rte_pktmbuf_free(m);
			TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "freed too early");
			rte_pktmbuf_free(c1);
			break;
		default:
			/* An mbuf reference on top of the clones. */
			rte_mbuf_refcnt_update(m, 1);
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(c1);
			rte_pktmbuf_free(c2);
			TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "freed too early");
			rte_pktmbuf_free(m);
			break;
		}
		TEST_ASSERT_SUCCESS(check_all_back(), "order %d", order);
	}
	return TEST_SUCCESS;
}

/* A chain of fragment mbufs, as a mergeable RX chain becomes. */
static int
test_chain(void)
{
	struct rte_mbuf *head = NULL, *m;
	int i;

	for (i = 0; i < 5; i++) {
		m = pfrag_pktmbuf_alloc(hdrs, pool, 1000);
		TEST_ASSERT_NOT_NULL(m, "alloc");
		rte_pktmbuf_append(m, 1000);
		if (head == NULL)
			head = m;
		else
			TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(head, m), "chain");
	}
	TEST_ASSERT_EQUAL(head->nb_segs, 5, "segments");
	TEST_ASSERT_EQUAL(head->pkt_len, 5000, "length");
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 5, "out");
	rte_pktmbuf_free(head);
	return check_all_back();
}

/* The caller attaches a fragment it carved itself (the driver's way). */
static int
test_manual_attach(void)
{
	uint32_t size = pfrag_mbuf_frag_size(128 + 64);
	struct rte_mbuf *m = rte_pktmbuf_alloc(hdrs);
	void *frag = pfrag_alloc(pool, size, 64);

	TEST_ASSERT(m != NULL && frag != NULL, "alloc");
	pfrag_mbuf_attach(m, frag, size, 128);
	TEST_ASSERT_EQUAL(rte_pktmbuf_headroom(m), 128, "headroom");
	TEST_ASSERT(m->buf_len >= 192, "buffer length %u", m->buf_len);
	TEST_ASSERT((uint8_t *)m->shinfo >= (uint8_t *)frag + m->buf_len, "shinfo overlaps");
	TEST_ASSERT((uint8_t *)(m->shinfo + 1) <= (uint8_t *)frag + size, "shinfo outside");
	rte_pktmbuf_free(m);
	return check_all_back();
}

static int
test_exhaustion(void)
{
	struct rte_mbuf *m[40];
	unsigned int n = 0, i;

	/* Each fragment fills more than half a page: 32 pages, 32 mbufs. */
	for (i = 0; i < RTE_DIM(m); i++) {
		m[n] = pfrag_pktmbuf_alloc(hdrs, pool, PFRAG_DEFAULT_PAGE_SIZE / 2);
		if (m[n] == NULL)
			break;
		n++;
	}
	TEST_ASSERT_EQUAL(n, 32, "mbufs before exhaustion");
	TEST_ASSERT_EQUAL(rte_errno, ENOBUFS, "errno");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(hdrs), 32, "header of the failure leaked");
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
	TEST_ASSERT_NULL(pfrag_pktmbuf_alloc(hdrs, pool, 70000), "data room beyond 64 KiB");
	return check_all_back();
}

/* The mbuf mempool of the pool, found by its name (pfmb_<address>). */
static char mbuf_pool_name[RTE_MEMPOOL_NAMESIZE];

static struct rte_mempool *
mbuf_pool_lookup(void)
{
	return mbuf_pool_name[0] == '\0' ? NULL : rte_mempool_lookup(mbuf_pool_name);
}

/* An mbuf built in a fragment of @p size bytes from this lcore's cache. */
static struct rte_mbuf *
build_one(struct rte_mempool *mp, uint32_t size)
{
	void *frag = pfrag_alloc(pool, size, RTE_CACHE_LINE_SIZE);

	return frag == NULL ? NULL : pfrag_mbuf_build(mp, frag, pfrag_iova(frag), size);
}

/*
 * Built in the fragment [build_skb]: the mbuf is the fragment's first bytes,
 * a direct mbuf of the pool's pfrag_mbuf_pool(); clones share it, and the
 * fragment goes back once, when the mbuf's last user lets go.
 */
static int
test_build(void)
{
	uint32_t size = pfrag_mbuf_build_size(RTE_PKTMBUF_HEADROOM + 200);
	struct rte_mempool *mp = pfrag_mbuf_pool(pool, 1000);
	struct rte_mempool *other;
	struct rte_mbuf *m, *c;
	int i, is_frag;
	uint8_t *p;

	TEST_ASSERT_NOT_NULL(mp, "mbuf pool: %s", rte_strerror(rte_errno));
	snprintf(mbuf_pool_name, sizeof(mbuf_pool_name), "%s", mp->name);
	TEST_ASSERT(pfrag_mbuf_pool(pool, 2000) == mp, "one mbuf pool per pfrag pool");
	TEST_ASSERT_EQUAL(rte_pktmbuf_data_room_size(mp), 1000 + RTE_PKTMBUF_HEADROOM,
			  "data room of the first call");
	TEST_ASSERT_NULL(pfrag_mbuf_pool(NULL, 1000), "no pool");
	TEST_ASSERT_NULL(pfrag_mbuf_pool(pool, UINT16_MAX), "room beyond an mbuf");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "errno");

	m = build_one(mp, size);
	TEST_ASSERT_NOT_NULL(m, "build");
	TEST_ASSERT(RTE_MBUF_DIRECT(m), "a direct mbuf");
	TEST_ASSERT(pfrag_mbuf_is_frag(m), "is_frag");
	TEST_ASSERT(m->pool == mp, "its pool");
	TEST_ASSERT(m->buf_addr == (void *)(m + 1), "buffer right after the mbuf");
	TEST_ASSERT_EQUAL(m->buf_len, size - sizeof(*m), "buffer: the rest of the fragment");
	TEST_ASSERT_EQUAL(rte_mbuf_data_iova(m), pfrag_iova(rte_pktmbuf_mtod(m, void *)),
			  "IOVA of the data");
	TEST_ASSERT_EQUAL(m->data_off, RTE_PKTMBUF_HEADROOM, "headroom");
	TEST_ASSERT(rte_mbuf_refcnt_read(m) == 1 && m->nb_segs == 1 && m->next == NULL &&
		    m->pkt_len == 0 && m->data_len == 0 && m->ol_flags == 0 &&
		    m->priv_size == 0, "fresh mbuf");
	TEST_ASSERT_EQUAL(rte_pktmbuf_tailroom(m), size - sizeof(*m) - RTE_PKTMBUF_HEADROOM,
			  "tailroom: the whole room, rounded up to a cache line");
	p = (uint8_t *)rte_pktmbuf_append(m, 200);
	TEST_ASSERT_NOT_NULL(p, "append");
	for (i = 0; i < 200; i++)
		p[i] = (uint8_t)i;
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "one fragment out");

	/* A clone outlives the mbuf: the data stays until the clone goes. */
	c = rte_pktmbuf_clone(m, clones);
	TEST_ASSERT_NOT_NULL(c, "clone");
	TEST_ASSERT(pfrag_mbuf_is_frag(c), "a clone's data is a fragment too");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 1, "freed while a clone holds it");
	p = rte_pktmbuf_mtod(c, uint8_t *);
	for (i = 0; i < 200; i++)
		TEST_ASSERT_EQUAL(p[i], (uint8_t)i, "byte %d through the clone", i);
	rte_pktmbuf_free(c);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 0, "the clone let the fragment go");

	/* An mbuf of a "pfrag" mempool on this pool's pages is no fragment's. */
	other = pfrag_pktmbuf_pool_create("mbuf_test_pfmp", 16, 0, 0, 256, pool);
	TEST_ASSERT_NOT_NULL(other, "pfrag mempool: %s", rte_strerror(rte_errno));
	m = rte_pktmbuf_alloc(other);
	is_frag = m != NULL && pfrag_mbuf_is_frag(m);
	rte_pktmbuf_free(m);
	TEST_ASSERT_SUCCESS(pfrag_pktmbuf_pool_free(other), "pfrag mempool free");
	TEST_ASSERT(m != NULL && !is_frag, "a pfrag mempool's mbuf taken for a fragment's");
	return check_all_back();
}

/*
 * pfrag_mbuf_build_from() of a pfrag_mbuf_template() builds what
 * pfrag_mbuf_build() builds, field by field, in fragments whose bytes were
 * anything before; the two differ only in where they are.
 */
static int
test_build_from(void)
{
	uint32_t size = pfrag_mbuf_build_size(RTE_PKTMBUF_HEADROOM + 200);
	struct rte_mempool *mp = pfrag_mbuf_pool(pool, 1000);
	struct rte_mbuf tmpl, *a, *b;
	void *fa, *fb;

	TEST_ASSERT_NOT_NULL(mp, "mbuf pool: %s", rte_strerror(rte_errno));
	fa = pfrag_alloc(pool, size, RTE_CACHE_LINE_SIZE);
	fb = pfrag_alloc(pool, size, RTE_CACHE_LINE_SIZE);
	TEST_ASSERT(fa != NULL && fb != NULL, "two fragments");
	memset(fa, 0xa5, size);
	memset(fb, 0x5a, size);
	a = pfrag_mbuf_build(mp, fa, pfrag_iova(fa), size);
	pfrag_mbuf_template(&tmpl, mp, size);
	b = pfrag_mbuf_build_from(&tmpl, fb, pfrag_iova(fb));
	TEST_ASSERT(b == fb && b->buf_addr == (void *)(b + 1), "buffer right after the mbuf");
	TEST_ASSERT_EQUAL(rte_mbuf_data_iova(b), pfrag_iova(rte_pktmbuf_mtod(b, void *)),
			  "IOVA of the data");
	TEST_ASSERT(rte_mbuf_data_iova(a) - pfrag_iova(fa) ==
		    rte_mbuf_data_iova(b) - pfrag_iova(fb), "same IOVA offset");
	TEST_ASSERT(a->data_off == b->data_off && a->buf_len == b->buf_len &&
		    rte_mbuf_refcnt_read(a) == rte_mbuf_refcnt_read(b) &&
		    a->nb_segs == b->nb_segs && a->port == b->port &&
		    a->ol_flags == b->ol_flags && a->packet_type == b->packet_type &&
		    a->pkt_len == b->pkt_len && a->data_len == b->data_len &&
		    a->vlan_tci == b->vlan_tci && a->vlan_tci_outer == b->vlan_tci_outer &&
		    a->pool == b->pool && a->next == b->next &&
		    a->tx_offload == b->tx_offload && a->priv_size == b->priv_size,
		    "the same mbuf as pfrag_mbuf_build()");
	TEST_ASSERT(pfrag_mbuf_is_frag(b), "is_frag");
	TEST_ASSERT_NOT_NULL(rte_pktmbuf_append(b, 200), "append the whole room");
	rte_pktmbuf_free(a);
	rte_pktmbuf_free(b);
	return check_all_back();
}

/*
 * rte_pktmbuf_free_bulk() of built mbufs and chains of them gives each
 * fragment back once; rte_pktmbuf_alloc() from the mbuf pool carves one.
 */
static int
test_build_bulk(void)
{
	uint32_t size = pfrag_mbuf_build_size(RTE_PKTMBUF_HEADROOM + 64);
	struct rte_mempool *mp = pfrag_mbuf_pool(pool, 1000);
	struct pfrag_pool_info a, b;
	struct rte_mbuf *m[64];
	unsigned int i;

	TEST_ASSERT_NOT_NULL(mp, "mbuf pool");
	pfrag_pool_info_get(pool, &a);
	for (i = 0; i < RTE_DIM(m); i++) {
		m[i] = build_one(mp, size);
		TEST_ASSERT_NOT_NULL(m[i], "build %u", i);
		TEST_ASSERT_NOT_NULL(rte_pktmbuf_append(m[i], 60), "append");
	}
	/* Two chains of four in the middle, as a mergeable packet arrives. */
	for (i = 0; i < 3; i++) {
		TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m[10], m[11 + i]), "chain");
		TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m[20], m[21 + i]), "chain");
		m[11 + i] = NULL;
		m[21 + i] = NULL;
	}
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), RTE_DIM(m), "fragments out");
	for (i = 0; i < RTE_DIM(m); i++)
		if (m[i] == NULL)
			m[i] = rte_pktmbuf_alloc(mp);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), RTE_DIM(m) + 6, "allocated from it");
	TEST_ASSERT(m[11] != NULL && pfrag_mbuf_is_frag(m[11]) && m[11]->pool == mp &&
		    rte_pktmbuf_tailroom(m[11]) >= 1000, "an mbuf of the pool's room");
	rte_pktmbuf_free_bulk(m, RTE_DIM(m));
	pfrag_pool_info_get(pool, &b);
	TEST_ASSERT_EQUAL(b.stats.free - a.stats.free, RTE_DIM(m) + 6,
			  "each fragment freed once");
	return check_all_back();
}

/*
 * pfrag_pktmbuf_free_bulk(), a driver's TX completions: plain mbufs built in
 * fragments go straight back to their pages; shared ones, chains, clones,
 * other mempools' mbufs and NULL entries are freed as rte_pktmbuf_free_bulk()
 * frees them. Every fragment and mbuf exactly once, bursts above 64 too.
 */
static int
test_free_bulk_mixed(void)
{
	uint32_t size = pfrag_mbuf_build_size(RTE_PKTMBUF_HEADROOM + 64);
	struct rte_mempool *mp = pfrag_mbuf_pool(pool, 1000);
	struct rte_mbuf *m[150], *keep[2], *c;
	unsigned int i, n = 0;

	TEST_ASSERT_NOT_NULL(mp, "mbuf pool");
	/* Ours first (the fast path), then every other kind among them. */
	for (i = 0; i < 100; i++) {
		m[n] = build_one(mp, size);
		TEST_ASSERT_NOT_NULL(m[n++], "build");
	}
	m[n] = build_one(mp, size);          /* a chain of two of ours */
	c = build_one(mp, size);
	TEST_ASSERT(m[n] != NULL && c != NULL, "build");
	TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m[n++], c), "chain");
	keep[0] = build_one(mp, size);       /* shared: the test keeps a reference */
	TEST_ASSERT_NOT_NULL(keep[0], "build");
	rte_mbuf_refcnt_update(keep[0], 1);
	m[n++] = keep[0];
	keep[1] = build_one(mp, size);       /* a clone of ours, from another mempool */
	TEST_ASSERT_NOT_NULL(keep[1], "build");
	m[n] = rte_pktmbuf_clone(keep[1], clones);
	TEST_ASSERT_NOT_NULL(m[n++], "clone");
	m[n++] = NULL;
	for (i = 0; i < 20; i++) {           /* another mempool's */
		m[n] = rte_pktmbuf_alloc(clones);
		TEST_ASSERT_NOT_NULL(m[n++], "mbuf");
	}
	for (i = 0; i < 20; i++) {
		m[n] = build_one(mp, size);
		TEST_ASSERT_NOT_NULL(m[n++], "build");
	}
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 124, "fragments out");
	pfrag_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(pfrag_pool_frags_out(pool), 2, "only the kept ones left");
	TEST_ASSERT_EQUAL(rte_mempool_in_use_count(clones), 0, "other mempool's mbufs freed");
	TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(keep[0]), 1, "shared: one reference dropped");
	TEST_ASSERT_EQUAL(rte_mbuf_refcnt_read(keep[1]), 1, "the clone let go of its mbuf");
	/* A burst that starts with another mempool's mbuf: ours still go back. */
	m[0] = rte_pktmbuf_alloc(clones);
	m[1] = keep[0];
	m[2] = keep[1];
	TEST_ASSERT_NOT_NULL(m[0], "mbuf");
	pfrag_pktmbuf_free_bulk(m, 3);
	return check_all_back();
}

/*
 * Last case: every page is back, so the pool can be freed. A teardown can
 * only print; a leaked page reference must fail the unit.
 */
static int
test_pool_free(void)
{
	int ret;

	pfrag_cache_drain(pfrag_lcore_cache(pool));
	TEST_ASSERT_SUCCESS(pfrag_test_pool_back(pool, NULL, "end of the unit"), "pool idle");
	ret = pfrag_pool_free(pool);
	if (ret != 0)
		pfrag_pool_dump(stdout, pool);
	TEST_ASSERT_SUCCESS(ret, "pool free: every fragment and page is back");
	pool = NULL;
	/* Its mbuf pool (test_build) went with it. */
	TEST_ASSERT_NULL(mbuf_pool_lookup(), "the pool's mbuf mempool outlived it");
	return TEST_SUCCESS;
}

static struct unit_test_suite mbuf_suite = {
	.name = "pfrag mbuf bridge",
	.setup = setup,
	.teardown = teardown,
	.cases = {
		TEST_CASE(test_attach_free),
		TEST_CASE(test_clone_orders),
		TEST_CASE(test_chain),
		TEST_CASE(test_manual_attach),
		TEST_CASE(test_exhaustion),
		TEST_CASE(test_build),
		TEST_CASE(test_build_from),
		TEST_CASE(test_build_bulk),
		TEST_CASE(test_free_bulk_mixed),
		TEST_CASE(test_pool_free),
		TEST_CASES_END(),
	},
};

static int
pfrag_mbuf_autotest(void)
{
	return unit_test_suite_runner(&mbuf_suite);
}

PFRAG_TEST_REGISTER(pfrag_mbuf_autotest, FAST, PFRAG_TEST_NOHUGE, pfrag_mbuf_autotest);
