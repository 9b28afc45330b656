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
PKGS     := openblas lapacke inih
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lopenblas -llapacke -linih)
ifeq ($(NATIVE),1)
CFLAGS += -march=native
endif
# The source commit, recorded in reports (empty outside a git checkout).
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD -- src include cli experiments 2>/dev/null || echo -modified)
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) -Iinclude -Isrc \
              $(PKG_CFLAGS) -DCOLB_BUILD_FLAGS='"$(strip $(CFLAGS))"' $(CFLAGS)
LDLIBS   := $(PKG_LIBS) -lpthread -lm

# The library is every .c file one folder below src/ (one folder per layer,
# docs/architecture.md); nothing is listed by hand.
LIB_SRC  := $(sort $(wildcard src/*/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC:= $(sort $(wildcard bench/*.c))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/specs.o
CLI_LIB  := $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ))
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: FORCE all lib check sanitize check-long bench run install uninstall clean
all: lib $(BUILD)/colb $(EXAMPLES)

lib: $(BUILD)/libcolb.a $(BUILD)/libcolb.so

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter cli/%,$<),-Icli) $(if $(filter cli/reproduce.c,$<),-DCOLB_GIT_COMMIT='"$(GIT_COMMIT)"') -MMD -MP -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

FORCE:

$(BUILD)/libcolb.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcolb.so: $(LIB_PIC)
	$(CC) -shared -Wl,-soname,libcolb.so.0 $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/colb: $(CLI_OBJ) $(BUILD)/libcolb.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcolb.a $(LDLIBS)

# The paper's experiment specs, embedded in the tool.
$(BUILD)/gen/specs.c: $(sort $(wildcard experiments/*.conf)) scripts/embed-specs
	@mkdir -p $(dir $@)
	sh scripts/embed-specs $(sort $(wildcard experiments/*.conf)) > $@.tmp && mv $@.tmp $@

# reproduce.c records the commit: rebuild it when HEAD moves.
$(BUILD)/cli/reproduce.o: $(BUILD)/commit.stamp
$(BUILD)/commit.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(GIT_COMMIT)' | cmp -s - $@ || echo '$(GIT_COMMIT)' > $@

$(BUILD)/gen/specs.o: $(BUILD)/gen/specs.c
	$(CC) $(ALL_CFLAGS) -Icli -c $< -o $@

# tests/test_cli_*.c test the tool's own modules and link its objects.
$(BUILD)/tests/test_cli_%: tests/test_cli_%.c tests/testutil.h $(BUILD)/libcolb.a $(CLI_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Icli -o $@ $< $(CLI_LIB) $(BUILD)/libcolb.a $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/%.c tests/testutil.h $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(BUILD)/libcolb.a $(LDLIBS) -lcmocka

$(BUILD)/examples/%: examples/%.c $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcolb.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcolb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcolb.a $(LDLIBS)

check: all $(TESTS)
	@sh scripts/check-layers
	@COLB=$(BUILD)/colb sh tests/run.sh $(TESTS)

sanitize:
	$(MAKE) BUILD=build-san OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" check

check-long: all $(TESTS)
	@COLB_LONG=1 COLB=$(BUILD)/colb sh tests/run.sh $(TESTS)

bench:
	$(MAKE) BUILD=build-native NATIVE=1 OPT=-O3 build-native/colb $(BENCHES:$(BUILD)/%=build-native/%)
	@for b in $(BENCHES:$(BUILD)/%=build-native/%); do $$b || exit 1; done

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
	rm -rf build build-san build-native

-include $(LIB_OBJ:.o=.d) $(LIB_PIC:.o=.d) $(CLI_OBJ:.o=.d)
