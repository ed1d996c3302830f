# recio: build, test, install.  See README.md.
#   make            all tools into $(B)/bin
#   make deps       install the Debian packages recio needs (apt-get, idempotent)
#   make demo       build and run the system on the simulator (Ctrl-C stops)
#   make check      unit tests + bats behaviour tests
#   make check-asan the same, built with -fsanitize=address,undefined into build-asan/
#   make check-valgrind  the unit tests under valgrind
#   make check-tsan health-serve's tests built with -fsanitize=thread into build-tsan/
#   make lint       cppcheck, clang-tidy (.clang-tidy), shellcheck
#   make fuzz       the libFuzzer targets (clang), FUZZ_SECONDS each
#   make bench      every benchmark (bench/run): one table, NDJSON in $(B)/bench
#   make bench-deps install what the benchmarks measure against (wrk, nginx, perf; bc)
#   make install    PREFIX=/usr/local DESTDIR=

B       ?= build
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/recio
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Ilib -I$(PGINC)
PGINC   ?= $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
WFLAGS  = -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
          -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ifeq ($(SAN),thread)
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
endif
ALLCFLAGS = $(WFLAGS) $(OPT) $(SANFLAGS) $(CFLAGS)
LDLIBS  = -Wl,--as-needed -lpq -lsqlite3 -lmicrohttpd -lwebsockets -lcurl -lssl -lcrypto -lm -pthread

LIBSRC  = $(wildcard lib/*.c)
LIBOBJ  = $(LIBSRC:lib/%.c=$(B)/lib/%.o)
LIBA    = $(B)/librecio.a
TOOLSRC = $(wildcard bin/*.c)
TOOLS   = $(TOOLSRC:bin/%.c=$(B)/bin/%)
SCRIPTS = $(filter-out $(TOOLSRC),$(wildcard bin/*))
UNITSRC = $(wildcard t/unit/test_*.c)
UNITS   = $(UNITSRC:t/unit/%.c=$(B)/t/%)
MANS    = $(wildcard man/*.[1-8])
BENCHSRC = $(wildcard bench/*.c)
BENCHBIN = $(BENCHSRC:bench/%.c=$(B)/bench/%)

# Debian 12 packages: build, run and test.
DEBS = build-essential pkg-config libjsmn-dev libmicrohttpd-dev libcurl4-openssl-dev \
       libssl-dev libwebsockets-dev libpq-dev libsqlite3-dev sqlite3 postgresql curl jq bats cppcheck valgrind openssl ca-certificates procps psmisc mawk \
       s6 execline shellcheck chromium clang libclang-rt-14-dev clang-tidy python3
# ... and for the benchmarks only (make bench-deps; not in CI): the load
# generator, the reference server and the profiler.
BENCH_DEBS = wrk nginx-light linux-perf bc

all: $(TOOLS) $(B)/bin/.scripts $(BENCHBIN)

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(B)/lib
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c -o $@ $<

$(LIBA): $(LIBOBJ)
	rm -f $@ && ar rcs $@ $(LIBOBJ)

$(B)/bin/%: bin/%.c $(LIBA) $(wildcard lib/*.h) | $(B)/bin
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(SANFLAGS) $(LDLIBS)

# bench/*.c: the benchmarks' drivers (not installed)
$(B)/bench/%: bench/%.c $(LIBA) $(wildcard lib/*.h) | $(B)/bench
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(SANFLAGS) $(LDLIBS)

$(B)/t/%: t/unit/%.c $(wildcard t/unit/*.h) $(LIBA) | $(B)/t
	$(CC) $(CPPFLAGS) -It/unit $(ALLCFLAGS) -o $@ $< $(LIBA) $(LDFLAGS) $(SANFLAGS) $(LDLIBS)
$(B)/t/test_json: t/fuzz/json_ref.h

# Shell tools (bin/recio ...) are linked into $(B)/bin so one PATH entry finds everything.
$(B)/bin/.scripts: $(SCRIPTS) | $(B)/bin
	for s in $(SCRIPTS); do ln -sf "$$(pwd)/$$s" $(B)/bin/; done; touch $@

$(B)/lib $(B)/bin $(B)/t $(B)/bench:
	mkdir -p $@

units: $(UNITS)

demo: all
	RECIO_BIN=$(CURDIR)/$(B)/bin sh bin/recio demo

check: all units
	B=$(B) sh t/run

# (the PostgreSQL outage test runs 30 s in make check; 10 s is enough here)
check-asan:
	RECIO_TEST_OUTAGE=$${RECIO_TEST_OUTAGE:-10} $(MAKE) B=build-asan SAN=1 check

# health-serve's threads under ThreadSanitizer: its tests, built with
# -fsanitize=thread into build-tsan/; any report fails.  (Not
# security.bats: its whole demo under TSan is slow enough that its
# 30 s wait for an order missed once in eight runs.)
TSAN_TESTS = health-serve.bats
check-tsan:
	$(MAKE) B=build-tsan SAN=thread all
	rm -rf build-tsan/tsan && mkdir -p build-tsan/tsan
	@fail=0; for t in $(TSAN_TESTS); do \
	  TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$(CURDIR)/build-tsan/tsan/report" \
	    B=build-tsan T_FILTER=$$t sh t/run || fail=1; done; \
	if ls build-tsan/tsan/report* >/dev/null 2>&1; then cat build-tsan/tsan/report*; fail=1; \
	else echo "ThreadSanitizer: no report"; fi; exit $$fail

# The unit tests under valgrind: no invalid access, no definite leak.
check-valgrind: units
	@fail=0; for u in $(UNITS); do \
	  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$u >/dev/null \
	    && echo "valgrind $$u: clean" || { echo "valgrind $$u: FAILED"; fail=1; }; done; exit $$fail

# clang-tidy sees what the compiler sees: the build's -D and -I, C11.
TIDYSRC   = $(LIBSRC) $(TOOLSRC) $(BENCHSRC) $(UNITSRC) $(wildcard t/fuzz/fuzz_*.c)
TIDYFLAGS = $(CPPFLAGS) -It/unit -It/fuzz -std=c11

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --std=c11 --inline-suppr -Ilib -D__GNUC__ --suppress=missingIncludeSystem \
	  lib bin bench t/unit
	@printf '%s\n' $(TIDYSRC) | xargs -P2 -I{} sh -c \
	  'out=$$(clang-tidy --quiet "$$0" -- $(TIDYFLAGS) 2>&1); rc=$$?; \
	   [ -z "$$out" ] || printf "%s\n" "$$out" | grep -v "^[0-9]* warnings\? generated\.$$"; exit $$rc' {} \
	  && echo "clang-tidy: $(words $(TIDYSRC)) files clean"
	shellcheck -s sh $(SCRIPTS) s6/*/run s6/*/finish s6/*/log/run s6/.lib/log-run s6/.lib/wait-ready t/pg t/run t/helpers/kcurl
	shellcheck t/*.bats t/*.bash
	shellcheck -x -s sh bench/*.sh bench/run
	shellcheck .ci/run

# libFuzzer targets (t/fuzz/fuzz_*.c), built with clang, ASan and UBSan into
# build-fuzz/; each runs FUZZ_SECONDS over its corpus (seeds in
# t/fuzz/corpus/NAME, what it finds in build-fuzz/corpus/NAME).
FZ       = build-fuzz
FZFLAGS  = -std=c11 -Wall -Wextra -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
FZLIBOBJ = $(LIBSRC:lib/%.c=$(FZ)/lib/%.o)
FUZZERS  = $(patsubst t/fuzz/%.c,$(FZ)/%,$(wildcard t/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 10

$(FZ)/lib/%.o: lib/%.c $(wildcard lib/*.h) Makefile | $(FZ)/lib
	clang $(CPPFLAGS) $(FZFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

$(FZ)/librecio.a: $(FZLIBOBJ)
	rm -f $@ && ar rcs $@ $(FZLIBOBJ)

$(FZ)/fuzz_%: t/fuzz/fuzz_%.c t/fuzz/fuzz.h $(FZ)/librecio.a
	clang $(CPPFLAGS) -It/fuzz $(FZFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FZ)/librecio.a $(LDLIBS)

# the servers' targets include the tool's source and run its main
$(FZ)/fuzz_health_serve: bin/health-serve.c t/fuzz/fuzz_http.h
$(FZ)/fuzz_kalshi_sim: bin/kalshi-sim.c t/fuzz/fuzz_http.h
$(FZ)/fuzz_money: t/unit/f64ref.h

$(FZ)/lib:
	mkdir -p $@

bench: all
	B=$(B) sh bench/run

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f##*/}; mkdir -p $(FZ)/corpus/$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 -print_final_stats=1 -artifact_prefix=$(FZ)/ \
	    $(FZ)/corpus/$$n t/fuzz/corpus/$$n >$(FZ)/$$n.log 2>&1 || { tail -n 60 $(FZ)/$$n.log; exit 1; }; \
	  echo "fuzz $$n: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FZ)/$$n.log) runs in $(FUZZ_SECONDS) s, no crash"; \
	done

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps: needs root (apt-get)" >&2; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS)
	@command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm

bench-deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make bench-deps: needs root (apt-get)" >&2; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BENCH_DEBS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)
	for s in $(SCRIPTS); do install -m 755 $$s $(DESTDIR)$(BINDIR); done
	for m in $(MANS); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	cp -R share/. $(DESTDIR)$(SHAREDIR)/
	cp -R s6 $(DESTDIR)$(SHAREDIR)/

clean:
	rm -rf build build-asan build-tsan build-fuzz t/artifacts

.PHONY: all units demo check check-asan check-tsan check-valgrind lint fuzz bench bench-deps deps install clean
.SECONDARY:
