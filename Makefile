# MSL — build, test, bench, install.  `make` builds ./msl.
#
# Targets: all (default), deps, test, check-all (check-layout, check-unit, check-golden,
# check-e2e, check-acceptance; one unit binary, suite or part: check-unit-test_io,
# check-e2e-jobs, check-acceptance-j3), asan, tsan, demo, slurm-demo, bench, fuzz,
# difftest, install, clean.

PREFIX   ?= /usr/local
CC       ?= cc
BUILD    ?= build
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
SAN      ?=
WARN      = -std=c11 -Wall -Wextra -Wformat=2 -Werror
CPPFLAGS += -D_GNU_SOURCE -Isrc -I$(BUILD) -DMSL_PREFIX='"$(PREFIX)"'
LIBS      = -lffi -lisal -lz -ldl -lm -pthread
ALLFLAGS  = $(WARN) $(CFLAGS) $(SAN) $(CPPFLAGS)

GEN_SRCS  = $(BUILD)/msl.tab.c $(BUILD)/lex.yy.c
LIB_SRCS  = $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJS  = $(LIB_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/msl.tab.o $(BUILD)/lex.yy.o
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/%)
# The stdlib's own native libraries: stdlib/native/NAME.c builds libmsl_NAME.so,
# and the table it publishes, as text beside it (SPEC 4), libmsl_NAME.manifest.
# A new NAME.c is picked up as src/ files are.
NATIVE    = $(patsubst stdlib/native/%.c,stdlib/native/libmsl_%.so,$(wildcard stdlib/native/*.c))
MANIFEST  = $(NATIVE:.so=.manifest)
FFI_TEST  = tests/ffi/libmsl_ffitest.so

.PHONY: all deps test check-unit check-golden check-e2e check-acceptance asan tsan \
        demo slurm-demo bench fuzz difftest install clean
.DELETE_ON_ERROR:

all: msl $(NATIVE) $(MANIFEST)

# Installs the build dependencies a fresh Debian machine lacks (idempotent).
deps:
	@sh tools/deps.sh

msl: $(BUILD)/cli/main.o $(BUILD)/libmsl.a
	$(CC) $(WARN) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS) -rdynamic

$(BUILD)/libmsl.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/msl.tab.c $(BUILD)/msl.tab.h &: grammar/msl.y | $(BUILD)
	bison -Wall -Werror -d -o $(BUILD)/msl.tab.c $<

$(BUILD)/lex.yy.c $(BUILD)/lex.yy.h &: grammar/msl.l | $(BUILD)
	flex --header-file=$(BUILD)/lex.yy.h -o $(BUILD)/lex.yy.c $<

# Generated code gets the same warnings except those flex/bison skeletons trip.
$(BUILD)/msl.tab.o: $(BUILD)/msl.tab.c $(BUILD)/lex.yy.h
	$(CC) $(ALLFLAGS) -Wno-unused-parameter -c -o $@ $<
$(BUILD)/lex.yy.o: $(BUILD)/lex.yy.c $(BUILD)/msl.tab.h
	$(CC) $(ALLFLAGS) -Wno-unused-parameter -Wno-sign-compare -c -o $@ $<

$(BUILD)/%.o: src/%.c $(BUILD)/msl.tab.h $(BUILD)/lex.yy.h | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALLFLAGS) -MMD -MP -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d)

# Native libraries are never instrumented: a sanitizer build of msl loads
# them as they are, and a normal build must not find ASan symbols in them.
stdlib/native/libmsl_%.so: stdlib/native/%.c stdlib/native/native_table.h
	$(CC) $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -shared -o $@ $<

# The tool that writes the manifests is the plain build's whatever BUILD is,
# like the libraries: the sanitizer builds, which `make test` runs at once,
# must not write the manifests again while the other's tests read them.
MANIFEST_TOOL = build/native_manifest
$(MANIFEST_TOOL): tools/native_manifest.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -Isrc -o $@ $< -ldl

stdlib/native/libmsl_%.manifest: stdlib/native/libmsl_%.so $(MANIFEST_TOOL)
	$(MANIFEST_TOOL) $< > $@

$(FFI_TEST): tests/ffi/ffitest.c
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/test_%: tests/unit/test_%.c $(BUILD)/libmsl.a
	$(CC) $(ALLFLAGS) -Wno-unused-parameter -MMD -MP -o $@ $< $(BUILD)/libmsl.a \
	  $$(pkg-config --cflags --libs check) $(LIBS)

# ---- tests ----------------------------------------------------------------------
# `make test` runs everything: unit, golden, end-to-end, acceptance, the same
# again under AddressSanitizer + UndefinedBehaviorSanitizer, and the parallel
# path under ThreadSanitizer.  Each unit binary, end-to-end suite and part of
# the acceptance run is a target of its own, and make runs two at a time, one
# per core (-j 2; -O keeps each target's output together): on a fresh clone
# on 2 cores, 11 minutes, against 18 one at a time, close to CI's 20.
test: deps
	$(MAKE) -j2 all $(FFI_TEST)
	$(MAKE) -j2 -O asan tsan check-all
	@echo "make test: all suites passed"

# The binary the check targets run: ./msl, or in `make asan` and `make tsan`
# (SAN set) the sanitizer build MSL_BIN names.
MSL_BIN  ?= msl
CHECK_ON  = $(if $(SAN),$(MSL_BIN),all)

UNIT_NAMES = $(UNIT_SRCS:tests/unit/%.c=%)
E2E_NAMES  = $(basename $(notdir $(filter-out tests/e2e/run.sh,$(wildcard tests/e2e/*.sh))))
ACC_PARTS  = default j1 j3

.PHONY: check-all check-layout $(UNIT_NAMES:%=check-unit-%) $(E2E_NAMES:%=check-e2e-%) \
        $(ACC_PARTS:%=check-acceptance-%)
check-all: check-layout check-unit check-golden check-e2e check-acceptance

check-layout:
	@sh tools/check_layout.sh
	@sh tools/check_sizes.sh

check-unit: $(UNIT_NAMES:%=check-unit-%)
$(UNIT_NAMES:%=check-unit-%): check-unit-%: $(BUILD)/% $(FFI_TEST) $(CHECK_ON)
	@echo "== $(BUILD)/$*"; CK_FORK=no ./$(BUILD)/$*

check-golden: $(CHECK_ON)
	@sh tests/golden/run.sh ./$(MSL_BIN)

check-e2e: $(E2E_NAMES:%=check-e2e-%)
$(E2E_NAMES:%=check-e2e-%): check-e2e-%: $(CHECK_ON) $(FFI_TEST)
	@E2E_SUITES=$* sh tests/e2e/run.sh ./$(MSL_BIN)

check-acceptance: $(ACC_PARTS:%=check-acceptance-%)
$(ACC_PARTS:%=check-acceptance-%): check-acceptance-%: $(CHECK_ON)
	@sh tests/acceptance.sh ./$(MSL_BIN) $*

# Leak checks are on in every run (ASAN_OPTIONS, after any the caller set).
asan:
	ASAN_OPTIONS="$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}detect_leaks=1" $(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  MSL_BIN=msl-asan check-unit check-golden check-e2e check-acceptance

# ThreadSanitizer over the parallel path (-j): the -j and progress suites and
# the acceptance cases with -j 1, 2 and 3; any race report fails them.
tsan:
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" $(MAKE) BUILD=build-tsan OPT="-O1 -g" \
	  SAN="-fsanitize=thread" MSL_BIN=msl-tsan check-e2e-jobs check-e2e-progress check-acceptance

.PHONY: msl-asan msl-tsan
msl-asan msl-tsan: $(BUILD)/cli/main.o $(BUILD)/libmsl.a $(NATIVE) $(MANIFEST)
	$(CC) $(WARN) $(CFLAGS) $(SAN) -o $@ $(BUILD)/cli/main.o $(BUILD)/libmsl.a $(LIBS) -rdynamic

# ---- other jobs -------------------------------------------------------------------
demo: deps
	$(MAKE) all
	@sh tools/demo.sh ./msl

# A real scheduler (not part of `make test`; needs root and apt-get): a
# single-node Slurm runs 4 shards as a job array and the merge, and the
# result must equal one run over everything (tools/slurm/, docs/scale.md).
slurm-demo: deps
	$(MAKE) all
	@sh tools/slurm/demo.sh ./msl

# The benchmark, not a test (`make test` times nothing): msl, DuckDB and SQLite on
# the shared logs, results compared, figures in bench/results.md. Knobs, e.g.
# BENCH_SIZES=1000000, are described at the top of tools/bench.sh.
bench: deps
	$(MAKE) all
	@sh tools/bench.sh ./msl

FUZZ_SECONDS ?= 60
fuzz: deps
	@sh tools/fuzz.sh $(FUZZ_SECONDS)

# Differential test against ../shared/oracle (not part of `make test`):
#   make difftest SEEDS=1-500 [DIFFTEST_FLAGS="--shrink --exclude complete"]
SEEDS ?= 1-200
DIFFTEST_FLAGS ?=
difftest: all
	python3 tools/difftest/run.py --seeds $(SEEDS) $(DIFFTEST_FLAGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/msl/stdlib/std \
	  $(DESTDIR)$(PREFIX)/share/msl/stdlib/native
	install -m 755 msl $(DESTDIR)$(PREFIX)/bin/msl
	install -m 644 stdlib/std/*.ms $(DESTDIR)$(PREFIX)/share/msl/stdlib/std/
	install -m 755 $(NATIVE) $(DESTDIR)$(PREFIX)/share/msl/stdlib/native/
	install -m 644 $(MANIFEST) $(DESTDIR)$(PREFIX)/share/msl/stdlib/native/

clean:
	rm -rf build build-asan build-tsan build-fuzz msl msl-asan msl-tsan $(NATIVE) $(MANIFEST) $(FFI_TEST)
