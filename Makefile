# moat: the two commands of the quick start are `make demo` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PYASAN_BUILD ?= build-pyasan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
OSSL35     ?= ../shared/peers/openssl-3.5
OSSL35_BUILD ?= build-ossl35
# make bench OPENSSL_ROOT_DIR=DIR benchmarks against that OpenSSL's libcrypto
# and libssl, in a build directory of its own.
ifdef OPENSSL_ROOT_DIR
BENCH_BUILD ?= build-bench-$(notdir $(abspath $(OPENSSL_ROOT_DIR)))
BENCH_CMAKE_ARGS = -DOPENSSL_ROOT_DIR=$(abspath $(OPENSSL_ROOT_DIR))
endif
BENCH_BUILD ?= build-bench
JOBS       ?= 2
PREFIX     ?= /usr/local
FUZZ_SECONDS ?= 10

.PHONY: all build deps demo python test test-unit test-python-asan test-asan test-tsan test-ossl35 bogo fuzz fuzz-smoke fuzz-long bench \
        bench-smoke bench-quick bench-instructions format format-check install clean

all: build

deps:
	@sh tools/check-deps.sh

$(BUILD)/CMakeCache.txt:
	@sh tools/check-deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/moat demo

# Everything: unit, X.509 conformance, interop; then the same suite under
# ASan + UBSan with leak checking, and the _ssl module's CPython cases
# under ASan + UBSan; then each fuzz target briefly; then the
# benchmark is built and runs one handshake per library (no figure judged).
test: build
	@if command -v clang-format >/dev/null; then $(MAKE) --no-print-directory format-check; \
	  else echo "format check skipped: clang-format not installed (apt-get install clang-format)"; fi
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	$(MAKE) bogo
	$(MAKE) test-asan
	$(MAKE) test-python-asan
	$(MAKE) test-tsan
	$(MAKE) test-ossl35
	$(MAKE) fuzz-smoke
	$(MAKE) bench-smoke

# BoringSSL's TLS test suite (BoGo) against moat through tests/bogo/shim.c:
# fails on any result not expected by tests/bogo/config.json (disabled
# tests) and tests/bogo/known-failures.txt; counts in docs/conformance.md.
bogo: build
	JOBS=$(JOBS) sh tests/bogo/run.sh $(BUILD)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) -L unit

# The _ssl module and libmoat built with ASan + UBSan, and CPython's
# must-pass test_ssl cases run on the python3 on PATH with the sanitizer
# runtime preloaded (PYTHONMALLOC=malloc, so Python's objects are ASan's
# allocations too).  Leak checking is off: the interpreter itself does not
# free everything at exit; tests/python/test_module.py's RSS loop is what
# catches leaks.
test-python-asan:
	@tag=$$(python3 -c 'import sys;print("%d.%d"%sys.version_info[:2])'); \
	if ! python3 -c 'import test.test_ssl' 2>/dev/null || \
	   [ ! -f ../shared/python/must_tests.txt ]; then \
	  echo "python ASan run skipped: python3 $$tag has no test.test_ssl or ../shared/python is missing"; \
	  exit 0; fi; \
	cmake -S . -B $(PYASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMOAT_SANITIZE=ON \
	  -DMOAT_PYTHON_SANITIZED=ON -DMOAT_TESTS=OFF -DMOAT_PYTHONS=python3 \
	  -DCMAKE_C_COMPILER=$${CC:-cc} >/dev/null && \
	cmake --build $(PYASAN_BUILD) -j$(JOBS) --target pymoat$$(echo $$tag | tr -d .) && \
	LD_PRELOAD="$$($${CC:-cc} -print-file-name=libasan.so) $$($${CC:-cc} -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PYTHONMALLOC=malloc \
	  python3 tests/python/run_cpython.py python3 $(PYASAN_BUILD)/python/$$tag test_ssl \
	    --matchfile ../shared/python/must_tests.txt \
	    --known tests/python/known_failures.txt --tag $$tag \
	    --log $(PYASAN_BUILD)/python-asan.log

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMOAT_SANITIZE=ON \
	  -DCMAKE_C_COMPILER=$${CC:-cc} -DMOAT_NODE_CACHE=$(abspath $(BUILD))/node-cache
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

# The tests labelled "threads" (connections handshaking on shared
# contexts while another thread calls the setters) under ThreadSanitizer;
# only their targets are built.
test-tsan:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOAT_TSAN=ON \
	  -DCMAKE_C_COMPILER=$${CC:-cc}
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target test_context
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -L threads

# The unit and interop tests again with moat built against OpenSSL 3.5's
# libcrypto (rpath to its lib/; test_crypto checks the loaded library
# names itself 3.5).  Skipped, with one line, where the folder is absent.
test-ossl35:
	@if [ ! -f $(OSSL35)/lib/libcrypto.so.3 ]; then \
	  echo "test-ossl35 skipped: $(OSSL35) (OpenSSL 3.5 built for this machine) not found"; \
	else \
	  cmake -S . -B $(OSSL35_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DOPENSSL_ROOT_DIR=$(abspath $(OSSL35)) \
	    -DMOAT_EXPECT_LIBCRYPTO="OpenSSL 3.5." -DMOAT_INTEROP_JOBS=4 && \
	  cmake --build $(OSSL35_BUILD) -j$(JOBS) && \
	  ldd $(OSSL35_BUILD)/moat | grep libcrypto && \
	  cd $(OSSL35_BUILD) && ctest --output-on-failure -j$(JOBS) -L "unit|interop"; \
	fi

fuzz:
	@command -v clang >/dev/null || { echo "fuzzing needs clang: apt-get install clang"; exit 1; }
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	  -DMOAT_SANITIZE=ON -DMOAT_FUZZ=ON -DMOAT_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

# Runs each fuzz target for FUZZ_SECONDS over its seed corpus.
fuzz-smoke: fuzz
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# A long run that keeps what it finds: every target (client, server,
# record, each codec, X.509) for FUZZ_SECONDS, then the new inputs that add
# coverage are merged into fuzz/corpus/ (commit them).  Not in make test.
#   make fuzz-long FUZZ_SECONDS=600
fuzz-long: fuzz
	sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) --merge

bench:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMOAT_BENCH=ON -DMOAT_TESTS=OFF $(BENCH_CMAKE_ARGS)
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	./$(BENCH_BUILD)/bench/moat-bench --json $(BENCH_BUILD)/bench.json
	@tag=$$(python3 -c 'import sys;print("%d.%d"%sys.version_info[:2])'); \
	if [ -d $(BENCH_BUILD)/python/$$tag ]; then \
	  python3 bench/python_bench.py $(BENCH_BUILD)/python/$$tag $(BENCH_BUILD)/bench-python.json; \
	else echo "python benchmark skipped: no _ssl module for python3 $$tag"; fi
	./$(BENCH_BUILD)/bench/moat-server-rate --moat $(BENCH_BUILD)/moat \
	  --json $(BENCH_BUILD)/server-rate.json

# Keeps the benchmark building and running: one handshake and one
# resumption per library, and the allocation figures, written as JSON that
# must parse (about 3 s after the build).  No figure is judged.
bench-smoke:
	@pkg-config --exists gnutls || { echo "the benchmark needs GnuTLS's headers: apt-get install libgnutls28-dev"; exit 1; }
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMOAT_BENCH=ON -DMOAT_TESTS=OFF $(BENCH_CMAKE_ARGS)
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	for lib in moat openssl gnutls; do \
	  ./$(BENCH_BUILD)/bench/moat-bench --one full --lib $$lib && \
	  ./$(BENCH_BUILD)/bench/moat-bench --one resume --lib $$lib || exit 1; \
	done
	./$(BENCH_BUILD)/bench/moat-bench --quick --only allocs \
	  --json $(BENCH_BUILD)/bench-smoke.json >/dev/null
	python3 -m json.tool $(BENCH_BUILD)/bench-smoke.json >/dev/null && \
	  echo "bench-smoke: $(BENCH_BUILD)/bench-smoke.json is valid JSON"

bench-quick:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMOAT_BENCH=ON -DMOAT_TESTS=OFF $(BENCH_CMAKE_ARGS)
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	./$(BENCH_BUILD)/bench/moat-bench --quick --json $(BENCH_BUILD)/bench.json

bench-instructions:
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMOAT_BENCH=ON -DMOAT_TESTS=OFF $(BENCH_CMAKE_ARGS)
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	sh bench/instructions.sh $(BENCH_BUILD)

# The _ssl module for another interpreter: make python PYTHON=/path/to/python3
PYTHON ?= python3
python: $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) "-DMOAT_PYTHONS=python3;$(PYTHON)"
	cmake --build $(BUILD) -j$(JOBS)
	@tag=$$($(PYTHON) -c 'import sys;print("%d.%d"%sys.version_info[:2])'); \
	echo "moat's _ssl for $(PYTHON): PYTHONPATH=$(CURDIR)/$(BUILD)/python/$$tag $(PYTHON) app.py"

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format: all C files follow .clang-format"

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(OSSL35_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
