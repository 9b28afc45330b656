# colb - build, test, benchmark, install.
#
#   make                 library (static + shared) and the colb tool in $(BUILD)
#   make check           build and run the test suite (quick tier)
#   make sanitize        the test suite under AddressSanitizer + UBSan (build-san/)
#   make check-long      long statistical tier (not in CI's default run)
#   make bench           benchmarks, built with -march=native (build-native/)
#   make run             the main job: reproduce the paper's figures (quick mode)
#   make quality         the quality benchmark of every policy at one width (long)
#   make install PREFIX=/usr/local
#   make fuzz            libFuzzer harnesses of every parser, 75 s + build (fuzz-long: longer)
#
# BUILD selects the output folder, so several configurations coexist.
# NATIVE=1 adds -march=native (opt-in; default flags are portable).

VERSION  := 0.1.0
BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
PKGS     := libxxhash
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) openblas lapacke 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lxxhash)
# The library and the tool use no BLAS or LAPACK (their results would follow
# the kernels a BLAS picks from the CPU model: docs/reproduction). The tests
# and benchmarks link them as references (LAPACK's eigenvalues and SVD,
# the machine's DGEMM peak).
REF_LIBS   := $(shell pkg-config --libs openblas lapacke 2>/dev/null || echo -lopenblas -llapacke)
ifeq ($(NATIVE),1)
CFLAGS += -march=native
endif
# The source commit, recorded in reports (empty outside a git checkout).
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- src include cli experiments 2>/dev/null || echo -modified)
# colb serve (issue 16): serve/ is part of the tool, on libmicrohttpd and cJSON;
# libmicrohttpd is loaded by the first server (dlopen, serve/mhd.h: linked,
# its GnuTLS cost every colb command ~5 ms at start), only its header is used here
SERVE_LIBS := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -ldl
# -ffp-contract=off: no a * b + c fused into an FMA behind the code's back.
# GCC's ISO mode (-std=c11) implies it, clang's does not (its default is
# "on": fused within an expression), and the ISA files are compiled with
# -mfma: clang fused ln det's log(pm) + ex ln 2 there, one bit off
# colb__cholesky's (tests/test_kernels.c test_chol_lanes_distinct), and with
# NATIVE=1 it would fuse the scalar reference's own sums.
ALL_CFLAGS := -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -Iinclude -Isrc \
              $(PKG_CFLAGS) -DCOLB_BUILD_FLAGS='"$(strip $(CFLAGS))"' $(CFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm

# The library is every .c file one folder below src/ (one folder per layer,
# docs/architecture.md); nothing is listed by hand.
LIB_SRC  := $(sort $(wildcard src/*/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c serve/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC:= $(sort $(wildcard bench/*.c))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/specs.o
CLI_LIB  := $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# the fuzz harnesses' corpora are replayed by the test suite (see fuzzing below)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
TESTS    += $(FUZZ_NAMES:%=$(BUILD)/tests/fuzz_%_replay)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: FORCE all lib check sanitize check-long tsan bench run install uninstall clean fuzz fuzz-long
all: lib $(BUILD)/colb $(EXAMPLES)

lib: $(BUILD)/libcolb.a $(BUILD)/libcolb.so

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter cli/% serve/%,$<),-Icli -Iserve) $(if $(filter cli/reproduce.c,$<),-DCOLB_GIT_COMMIT='"$(GIT_COMMIT)"') -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

FORCE:

# The SoA bank's hand-written SIMD kernels (src/linalg/soa_kernel_*.c): only
# these files are compiled with their ISA's flags; soa_bank.c picks one at run
# time from the CPU's features (or COLB_KERNEL), so the library still runs
# on any x86-64.
SOA_AVX512 := src/linalg/soa_kernel_avx512
SOA_AVX2   := src/linalg/soa_kernel_avx2
$(BUILD)/$(SOA_AVX512).o $(BUILD)/pic/$(SOA_AVX512).o: ALL_CFLAGS += -mavx512f -mavx512dq -mavx2 -mfma
$(BUILD)/$(SOA_AVX2).o $(BUILD)/pic/$(SOA_AVX2).o: ALL_CFLAGS += -mavx2 -mfma

$(BUILD)/libcolb.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The shared library exports the public API alone (colb_*, declared in
# include/colb/): a linker version script, src/libcolb.map, keeps the internal
# colb__* functions local, with no export macro in the public headers (and
# internal calls bind inside the library). The tests that call internals link
# libcolb.a; scripts/check-exports (make check) checks the exported list.
$(BUILD)/libcolb.so: $(LIB_PIC) src/libcolb.map
	$(CC) -shared -Wl,-soname,libcolb.so.0 -Wl,--version-script=src/libcolb.map $(CFLAGS) -o $@ $(LIB_PIC) $(LDLIBS)

$(BUILD)/colb: $(CLI_OBJ) $(BUILD)/libcolb.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcolb.a $(LDLIBS) $(SERVE_LIBS)

# The paper's experiment specs, and bench-quality's default, embedded in the tool.
$(BUILD)/gen/specs.c: $(sort $(wildcard experiments/*.conf)) experiments/extra/quality.conf scripts/embed-specs
	@mkdir -p $(dir $@)
	sh scripts/embed-specs --quality experiments/extra/quality.conf $(sort $(wildcard experiments/*.conf)) \
		> $@.tmp && mv $@.tmp $@

# reproduce.c records the commit: rebuild it when HEAD moves.
$(BUILD)/cli/reproduce.o: $(BUILD)/commit.stamp
$(BUILD)/commit.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(GIT_COMMIT)' | cmp -s - $@ || echo '$(GIT_COMMIT)' > $@

$(BUILD)/gen/specs.o: $(BUILD)/gen/specs.c
	$(CC) $(ALL_CFLAGS) -Icli -c $< -o $@

# tests/test_cli_*.c test the tool's own modules and link its objects.
$(BUILD)/tests/test_cli_%: tests/test_cli_%.c tests/testutil.h tests/spawn.h $(BUILD)/libcolb.a $(CLI_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Icli -Iserve -o $@ $< $(CLI_LIB) $(BUILD)/libcolb.a $(LDLIBS) $(REF_LIBS) $(SERVE_LIBS) -lcmocka

# colb serve's test reads the server's JSON with cJSON (issue 16), and asks
# serve/thread_sched.c what the scheduler lets a server here do
$(BUILD)/tests/test_serve: tests/test_serve.c tests/testutil.h $(BUILD)/libcolb.a $(BUILD)/serve/thread_sched.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Iserve -o $@ $< $(BUILD)/serve/thread_sched.o $(BUILD)/libcolb.a $(LDLIBS) $(REF_LIBS) $(SERVE_LIBS) -lcmocka

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(BUILD)/libcolb.a $(LDLIBS) $(REF_LIBS) -lcmocka

$(BUILD)/examples/%: examples/%.c $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcolb.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcolb.a $(LDLIBS) $(REF_LIBS)

# the benchmark programs are compiled too (not run: make bench), so that an
# internal interface change cannot leave them broken unnoticed
check: all $(TESTS) $(BENCHES)
	@sh scripts/check-layers
	@CC="$(CC)" sh scripts/check-exports $(BUILD)/libcolb.so
	+@sh scripts/check-install $(BUILD) "$(CFLAGS)"
	@COLB=$(BUILD)/colb sh tests/run.sh $(TESTS)

# The whole suite under ASan+UBSan with the default kernel (test_kernels in it
# runs every path the CPU has), then the policy tests again under every
# COLB_KERNEL value this CPU runs (test_snapshot: every policy saved, loaded
# and continued bit for bit on that path).
SAN_KERNEL_TESTS := test_engine test_pmlb test_club test_learner test_snapshot test_team
sanitize:
	$(MAKE) BUILD=build-san OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check
	@for k in avx512 avx2 portable; do \
	  case $$k in avx512) f='avx512f.*avx512dq|avx512dq.*avx512f';; avx2) f='fma.*avx2|avx2.*fma';; *) f=.;; esac; \
	  grep -Eqm1 "^flags.*($$f)" /proc/cpuinfo || { echo "sanitize: COLB_KERNEL=$$k skipped (not on this CPU)"; continue; }; \
	  echo "sanitize: COLB_KERNEL=$$k"; \
	  COLB_KERNEL=$$k sh tests/run.sh $(SAN_KERNEL_TESTS:%=build-san/tests/%) >build-san/kernel-$$k.log 2>&1 || \
	    { cat build-san/kernel-$$k.log; exit 1; }; tail -1 build-san/kernel-$$k.log; \
	done

# ThreadSanitizer over the tests whose code runs threads: the simulator's
# teams and parallel jobs, the interrupt flag, the service's threads and its
# snapshots. A report fails the test (TSan's exit status 66, in the test or
# in a colb it runs). Not in CI: it takes about ten minutes on two cores.
TSAN_TESTS := test_team test_engine test_club test_cohort test_fair test_snapshot test_checkpoint \
              test_cli_decisions test_cli_wal test_cli_state test_serve
tsan:
	$(MAKE) BUILD=build-tsan OPT=-O1 CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
	  build-tsan/colb $(TSAN_TESTS:%=build-tsan/tests/%)
	@COLB=build-tsan/colb sh tests/run.sh $(TSAN_TESTS:%=build-tsan/tests/%)

check-long: all $(TESTS)
	@COLB_LONG=1 COLB=$(BUILD)/colb sh tests/run.sh $(TESTS)

bench:
	$(MAKE) BUILD=build-native NATIVE=1 OPT=-O3 build-native/colb $(BENCHES:$(BUILD)/%=build-native/%)
	@for b in $(BENCHES:$(BUILD)/%=build-native/%); do $$b || exit 1; done
	@bash bench/whole_process.sh build-native/colb

run: all
	$(BUILD)/colb reproduce --quick --out results/quick

# The quality benchmark (docs/results.md): every policy at one width over
# N x z x sigma with 10 repeats; about an hour on two cores. Not in check.
.PHONY: quality
quality: all
	$(BUILD)/colb bench-quality -c experiments/extra/quality.conf --out results/quality -j 2

install: lib $(BUILD)/colb $(EXAMPLES)
	install -d $(DESTDIR)$(PREFIX)/include/colb $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/colb/*.h $(DESTDIR)$(PREFIX)/include/colb/
	install -m 644 $(BUILD)/libcolb.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libcolb.so $(DESTDIR)$(PREFIX)/lib/libcolb.so.$(VERSION)
	ln -sf libcolb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcolb.so.0
	ln -sf libcolb.so.0 $(DESTDIR)$(PREFIX)/lib/libcolb.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' colb.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/colb.pc
	install -m 755 $(BUILD)/colb $(DESTDIR)$(PREFIX)/bin/

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/colb $(DESTDIR)$(PREFIX)/lib/libcolb.* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/colb.pc $(DESTDIR)$(PREFIX)/bin/colb

clean:
	rm -rf build build-san build-native build-fuzz

# ---- fuzzing (issue 17) ----------------------------------------------------
# Every tests/fuzz/fuzz_NAME.c is one libFuzzer harness with its seed corpus
# in tests/fuzz/corpus/NAME/. `make fuzz` builds them with clang
# (-fsanitize=fuzzer,address,undefined, in build-fuzz/) and runs each for
# FUZZ_SECONDS (FUZZ_BUDGET seconds shared out, 75 by default: with the build
# CI spends about two minutes); `make fuzz-long` runs each for FUZZ_LONG seconds. New inputs
# go to build-fuzz/corpus/NAME, crashes to build-fuzz/crash-NAME-*: copy a
# crash into tests/fuzz/corpus/NAME/ and `make check` replays it from then on
# (build/tests/fuzz_NAME_replay, built with the ordinary compiler). The
# experiment seeds named after a figure are copies of experiments/FIGURE.conf
# (test_cli_experiment fails until an edited one is copied again).
FUZZ_BUDGET ?= 75
FUZZ_SECONDS ?= $(shell n=$(words $(FUZZ_NAMES)); expr $(FUZZ_BUDGET) / $${n:-1})
FUZZ_LONG   ?= 600
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

$(BUILD)/tests/fuzz_%_replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz_split.h tests/testutil.h $(BUILD)/libcolb.a $(CLI_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Icli -Iserve -Itests/fuzz -DFUZZ_NAME='"$*"' -o $@ $< tests/fuzz/replay.c $(CLI_LIB) $(BUILD)/libcolb.a $(LDLIBS) $(SERVE_LIBS) -lcmocka

fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang OPT=-O1 CFLAGS="$(FUZZ_CFLAGS)" build-fuzz/libcolb.a \
	  $(CLI_LIB:$(BUILD)/%=build-fuzz/%) $(FUZZ_NAMES:%=build-fuzz/fuzz_%)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_split.h build-fuzz/libcolb.a $(CLI_LIB:$(BUILD)/%=build-fuzz/%)
	clang $(ALL_CFLAGS) -fsanitize=fuzzer -Icli -Iserve -Itests -Itests/fuzz -o $@ $< $(CLI_LIB:$(BUILD)/%=build-fuzz/%) build-fuzz/libcolb.a $(LDLIBS) $(SERVE_LIBS)

fuzz fuzz-long: fuzz-build
	@for n in $(FUZZ_NAMES); do \
	  mkdir -p build-fuzz/corpus/$$n; \
	  echo "fuzz: $$n for $(if $(filter fuzz-long,$@),$(FUZZ_LONG),$(FUZZ_SECONDS)) s"; \
	  ./build-fuzz/fuzz_$$n -max_total_time=$(if $(filter fuzz-long,$@),$(FUZZ_LONG),$(FUZZ_SECONDS)) \
	    -rss_limit_mb=1536 -timeout=10 -print_final_stats=0 -artifact_prefix=build-fuzz/crash-$$n- \
	    build-fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>build-fuzz/fuzz-$$n.log \
	    || { tail -40 build-fuzz/fuzz-$$n.log; echo "fuzz: $$n found a crash (build-fuzz/crash-$$n-*)"; exit 1; }; \
	  grep -E "^#[0-9]+.*DONE" build-fuzz/fuzz-$$n.log | tail -1; \
	done

.PHONY: fuzz fuzz-long fuzz-build

-include $(LIB_OBJ:.o=.d) $(LIB_PIC:.o=.d) $(CLI_OBJ:.o=.d)

# ---- Python package (issue 18) ---------------------------------------------
# python/colb over $(BUILD)/libcolb.so (ctypes + numpy; docs/python.md); usable
# with PYTHONPATH=python after `make`. PYTHON picks the interpreter (default:
# the first of python3 and /usr/bin/python3 that imports numpy). `make check`
# runs its pytest suite (tests/python), `make install` installs it in PREFIX's
# site-packages (dist-packages on Debian).
.PHONY: python check-python install-python uninstall-python bench-python
python: $(BUILD)/libcolb.so
	@PYTHON="$(PYTHON)" sh scripts/python import $(BUILD)

check: check-python
check-python: all
	@PYTHON="$(PYTHON)" CC="$(CC)" sh scripts/python check $(BUILD) "$(CFLAGS)"

install: install-python
install-python:
	@PYTHON="$(PYTHON)" sh scripts/python install "$(DESTDIR)" "$(PREFIX)"

uninstall: uninstall-python
uninstall-python:
	@PYTHON="$(PYTHON)" sh scripts/python uninstall "$(DESTDIR)" "$(PREFIX)"

# the binding's overhead: colb.Policy.choose against the C calls it makes
bench: bench-python
bench-python:
	$(MAKE) BUILD=build-native NATIVE=1 OPT=-O3 build-native/libcolb.so build-native/bench/bench_binding
	@PYTHON="$(PYTHON)" sh scripts/python bench build-native
