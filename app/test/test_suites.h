/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _PFRAG_TEST_SUITES_H_
#define _PFRAG_TEST_SUITES_H_

/*
 * The meson suites of the project: the one list. pfrag-test's units name
 * their suite by the first column (PFRAG_TEST_REGISTER); app/test/list_units.py
 * reads this file (one X() per line) for the build, which registers every
 * test, unit or script, in a suite of this table, with its timeout; and
 * devtools/test.sh runs each suite in the runs of the last column:
 * main (the default build), perf (--perf), asan (sanitizer build), fuzz
 * (the clang libFuzzer build).
 *
 *   X(kind,    meson suite,     timeout s, devtools/test.sh runs)
 */
#define PFRAG_TEST_SUITES(X) \
	X(FAST,    "fast-tests",    60,  "main asan")  /* no peer, <= 10 s */ \
	X(PERF,    "perf-tests",    600, "perf")       /* figures next to an anchor */ \
	X(STRESS,  "stress-tests",  600, "main")       /* long or many-thread runs */ \
	X(INTEROP, "interop-tests", 600, "main asan")  /* against the distro testpmd */ \
	X(VM,      "vm-tests",      900, "main")       /* QEMU guests (test/vm) */ \
	X(FUZZ,    "fuzz-tests",    300, "fuzz")       /* libFuzzer (test/fuzz) */

#endif /* _PFRAG_TEST_SUITES_H_ */
