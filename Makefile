# kubectl-workspace: build, test, demo. `make help` lists the targets.
#
# Sources are found by directory: shared/*.c -> libworkspace.a, plugin/*.c ->
# bin/kubectl-workspace, webhook/*.c -> bin/workspace-webhook, controller/*.c ->
# bin/workspace-controller, certs/*.c ->
# bin/workspace-certs, tests/unit/test_*.c -> one cmocka binary each.
# Objects go to $(BUILD) (default build/release). Programs go to bin/ for the
# default build and to $(BUILD)/bin for any other (BUILD=build/clang, ...), so
# builds never overwrite each other's; make test, demo, dist and bench run the
# programs of the build they were asked for (KW_BIN_DIR).

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build/release
BIN     := $(if $(filter build/release,$(BUILD)),bin,$(BUILD)/bin)
OPT     ?= -O2 -g
SAN     ?=
PKGS    := libcurl libcjson openssl libmicrohttpd gnutls yaml-0.1
PYTHON  := /usr/bin/python3

# WERROR=1 (the default, and CI's) turns warnings into errors; WERROR=0 for other compilers.
WERROR  ?= 1
# gcc and clang differ in one warning: gcc's -Wformat-truncation is off (snprintf
# truncation is checked where it matters); clang has no such option.
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)
WARN_CC := $(if $(CC_IS_CLANG),,-Wno-format-truncation)
# clang 14 writes DWARF 5 by default, which valgrind 3.19 (Debian 12) cannot read.
DEBUG_CC := $(if $(CC_IS_CLANG),-fdebug-default-version=4)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_ALL  = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wstrict-prototypes \
              -Wshadow -Wno-missing-field-initializers $(WARN_CC) $(OPT) $(DEBUG_CC) $(SAN) -Ishared \
              $(PKG_CFLAGS) $(CFLAGS)
# --as-needed: each program records only the libraries it really uses.
LDLIBS_ALL  = $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = -Wl,--as-needed $(SAN) $(LDFLAGS)

SHARED_SRC  := $(wildcard shared/*.c)
PLUGIN_SRC  := $(wildcard plugin/*.c)
WEBHOOK_SRC := $(wildcard webhook/*.c)
CONTROLLER_SRC := $(wildcard controller/*.c)
CERTS_SRC   := $(wildcard certs/*.c)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB := $(BUILD)/libworkspace.a

PROGRAMS := $(BIN)/kubectl-workspace $(BIN)/kubectl_complete-workspace
ifneq ($(WEBHOOK_SRC),)
PROGRAMS += $(BIN)/workspace-webhook
endif
ifneq ($(CONTROLLER_SRC),)
PROGRAMS += $(BIN)/workspace-controller
endif
ifneq ($(CERTS_SRC),)
PROGRAMS += $(BIN)/workspace-certs
endif
# What the test and demo scripts are told to run.
RUN_ENV  := KW_BIN_DIR=$(abspath $(BIN))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test unit unit-asan unit-clang objects pytest demo bench bench-controller fuzz dist install clean help
.DEFAULT_GOAL := all
# Keep the unit objects between runs (they are intermediate files of a pattern rule).
.SECONDARY:

all: $(PROGRAMS)

help:
	@echo "make deps     install the Debian packages the build, tests and demo need"
	@echo "make          build bin/kubectl-workspace (and the webhook and certs tools;"
	@echo "               with BUILD=dir, in dir/bin)"
	@echo "make test     build and run every test (unit, under ASan+UBSan, with clang, e2e)"
	@echo "               WERROR=0 builds without -Werror (default 1: warnings are errors)"
	@echo "make demo     run the seed example"
	@echo "make install  install the programs under PREFIX (default /usr/local)"

deps:
	@tests/deps.sh

# A change of compiler or flags rebuilds: the objects depend on a stamp that
# is rewritten only when the command line differs from the last build's.
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && { echo '$(CC) $(CFLAGS_ALL)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(CFLAGS_ALL)' > $(FLAGS_STAMP); })

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(call obj,$(SHARED_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BIN)/kubectl-workspace: $(call obj,$(PLUGIN_SRC)) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# kubectl's completion hook: the same binary, told apart by its name.
$(BIN)/kubectl_complete-workspace: $(BIN)/kubectl-workspace
	ln -sf kubectl-workspace $@

# The admission server never calls libcurl: linked without it, so that a
# libcurl call creeping in fails the link.
$(BIN)/workspace-webhook: PKG_LIBS := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
$(BIN)/workspace-webhook: $(call obj,$(WEBHOOK_SRC)) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BIN)/workspace-controller: $(call obj,$(CONTROLLER_SRC)) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BIN)/workspace-certs: $(call obj,$(CERTS_SRC)) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

# Unit tests that inject allocation failures (tests/unit/fail_alloc.h,
# test_oom, test_xalloc) or fake the API servers (tests/unit/fake_cluster.h)
# link with --wrap, in those test binaries only.
UNIT_WRAP_ALLOC := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
UNIT_WRAP_FAKE  := $(foreach f,ws_k8s_run ws_k8s_get ws_k8s_create ws_k8s_update ws_k8s_patch \
		   ws_k8s_delete ws_k8s_list ws_flyte_call ws_flyte_get_project \
		   ws_flyte_set_project_state ws_flyte_domains ws_flyte_req ws_http_perform,-Wl,--wrap=$(f))
$(BUILD)/tests/test_undo: LDFLAGS_ALL += $(UNIT_WRAP_ALLOC)
$(BUILD)/tests/test_provision: LDFLAGS_ALL += $(UNIT_WRAP_ALLOC) $(UNIT_WRAP_FAKE)
$(BUILD)/tests/test_oom: LDFLAGS_ALL += -Wl,--wrap=strdup,--wrap=realloc
$(BUILD)/tests/test_xalloc: LDFLAGS_ALL += -Wl,--wrap=malloc

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) -lcmocka

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

# The unit tests once more under AddressSanitizer + UndefinedBehaviorSanitizer.
unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

# Every source compiled with clang (warnings as errors) and the unit tests run
# from that build; its objects and binaries stay in build/clang.
unit-clang:
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang objects unit

objects: $(call obj,$(SHARED_SRC) $(PLUGIN_SRC) $(WEBHOOK_SRC) $(CONTROLLER_SRC) $(CERTS_SRC))

pytest: all
	@cd tests && $(RUN_ENV) $(PYTHON) -m pytest -q -p no:cacheprovider

test: deps
	@$(MAKE) --no-print-directory all
	@$(RUN_ENV) tests/run-all

demo: deps
	@$(MAKE) --no-print-directory all
	@$(RUN_ENV) tests/demo.sh

# Webhook load benchmark against nginx (see bench/README.md).
bench: all
	@WS_EXTRA_PKGS="wrk nginx-light" tests/deps.sh
	@$(RUN_ENV) bench/run
	@$(RUN_ENV) bench/flood

# Controller scale benchmark: 2,000 records at once (bench/controller/run).
bench-controller: all
	@$(RUN_ENV) bench/controller/run

# Fuzz the decoders (see tests/fuzz/README.md).
fuzz:
	@WS_EXTRA_PKGS="clang libclang-rt-14-dev" tests/deps.sh
	@tests/fuzz/run

# The krew archive and manifest (build/dist/).
dist: all
	@$(RUN_ENV) plugin/dist.sh $$(sed -n 's/.*WS_VERSION "\(.*\)"/\1/p' shared/version.h) build/dist

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN)/kubectl-workspace $(DESTDIR)$(PREFIX)/bin/
	ln -sf kubectl-workspace $(DESTDIR)$(PREFIX)/bin/kubectl_complete-workspace
	for p in workspace-webhook workspace-controller workspace-certs; do \
		[ ! -x $(BIN)/$$p ] || install -m 0755 $(BIN)/$$p $(DESTDIR)$(PREFIX)/bin/; done

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
