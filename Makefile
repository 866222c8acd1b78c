# lcbackup - one Makefile. Objects go to build/<variant>/; see README.md and docs/.
#   make            build build/lcbackup
#   make check      every test layer (installs missing Debian packages first)
#   make demo       the whole story against the local simulated cloud
#   make asan       rebuild with address+undefined sanitizers and run the tests
#   make bench      benchmarks (figures in docs/performance.md)
#   make lint       clang-format check, cppcheck, longest functions
#   make fuzz       libFuzzer targets (needs clang); make check replays their corpora

VERSION   := 0.1.0
CC        ?= cc
WERROR    ?= 1
VARIANT   ?= release
BUILD     := build/$(VARIANT)
PKGS      := libcurl openssl libcjson libzstd libarchive sqlite3 libxml-2.0 libpq

WARN      := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Wwrite-strings -Wno-format-nonliteral -Wno-format-truncation
ifeq ($(WERROR),1)
WARN      += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -DLCB_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS    := $(PKG_LIBS) -lpthread -lm

ifeq ($(VARIANT),asan)
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS    := -O1 -g
endif

LIB_SRC   := $(sort $(wildcard lib/*/*.c))
CMD_SRC   := $(sort $(wildcard cmd/*.c))
GEN_SRC   := $(BUILD)/gen/migrations.c
LIB_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/gen/migrations.o
CMD_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(CMD_SRC))
UNIT_SRC  := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
MIGRATIONS := $(sort $(wildcard catalog/[0-9]*.sql))

.PHONY: all setup check unit fuzz-replay integration sim-test asan bench demo lint fuzz clean sim
all: build/lcbackup

setup:
	@sh scripts/setup.sh

# always relinked: after `make asan`, a plain `make` must point build/lcbackup back at the release
# binary even though the ASan one is newer
.PHONY: build/lcbackup
build/lcbackup: $(BUILD)/lcbackup
	@ln -sfn $(VARIANT)/lcbackup $@

$(BUILD)/lcbackup: $(CMD_OBJ) $(BUILD)/liblcb.a
	@echo "  LINK  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/liblcb.a $(LDLIBS)

$(BUILD)/liblcb.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	@sh scripts/embed-sql.sh $(MIGRATIONS) > $@

$(BUILD)/gen/migrations.o: $(BUILD)/gen/migrations.c
	@$(CC) $(ALL_CFLAGS) -Ilib -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(BUILD)/liblcb.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $<"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/liblcb.a $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/standalone.c $(BUILD)/liblcb.a
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $<"
	@$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/standalone.c $(BUILD)/liblcb.a $(LDLIBS)

# The test layers. Each prints "N passed, N failed"; check stops at the first failing layer.
check: setup
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory sim-test
	@$(MAKE) --no-print-directory integration

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

fuzz-replay: $(FUZZ_BIN)
	@sh tests/fuzz/replay.sh $(FUZZ_BIN)

sim-test:
	@/usr/bin/python3 tests/sim/run_tests.py

integration: all
	@LCBACKUP=$(CURDIR)/$(BUILD)/lcbackup sh tests/integration/run.sh

asan: setup
	@$(MAKE) --no-print-directory VARIANT=asan all unit fuzz-replay
	@$(MAKE) --no-print-directory VARIANT=asan integration

bench: setup all
	@sh tests/bench/run.sh

demo: setup all
	@sh scripts/demo.sh

sim: setup
	@/usr/bin/python3 tests/sim/lcsim up --state build/sim --seed legocity

lint:
	@sh scripts/lint.sh

fuzz:
	@sh tests/fuzz/run-libfuzzer.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
