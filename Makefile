# Herald: `make` prints this help. Every target installs what it needs, idempotently, on a fresh
# Debian machine (apt packages, the Wails CLI, npm packages); run as root or with sudo available.

# The Go toolchain every target builds and tests with: the first release without the standard
# library vulnerabilities govulncheck reports in the machine's go1.26.8 (net/http, crypto/tls,
# crypto/x509, net/textproto). The go command fetches it from the module proxy once.
export GOTOOLCHAIN := go1.26.11

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
GOBIN        := $(shell $(GO) env GOPATH)/bin
WAILS        := $(GOBIN)/wails
WAILS_VERSION := v2.11.0
NPM          ?= npm
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ADDR         ?= 127.0.0.1:8080
GO_PKGS       = $$($(GO) list ./... | grep -v /node_modules/)

# Debian packages: Wails on Linux (GTK 3 + WebKitGTK 4.1), and an X server + session bus (and
# imagemagick for screenshots, a notification daemon and a tray watcher) for the desktop tests.
APT_BUILD := build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
APT_GUI   := xvfb xauth dbus dbus-x11 imagemagick dunst libnotify-bin haskell-status-notifier-item-utils xdotool
# Debian's Chromium, driven by playwright-core in the browser tests, and a color emoji font so
# reactions, the picker and their screenshots show emoji, not empty boxes.
APT_BROWSER := chromium fonts-noto-color-emoji
# nginx, to test deploy/nginx/ in front of a real herald-server (streams unbuffered, resume).
APT_OPS := nginx-light

.DEFAULT_GOAL := help
.PHONY: help deps setup run serve desktop install-desktop server frontend test test-go test-cluster test-frontend test-e2e contract check fuzz vulncheck bench bench-go bench-tools clean

help: ## Show the targets
	@echo "Herald — self-hosted real-time team chat"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: desktop ## Build and start the desktop app (first run: host a team or join one; data in ~/.local/share/herald)
	./build/bin/herald

serve: server ## Run herald-server on $(ADDR) with its data under var/ (ADDR=host:port to change)
	mkdir -p var/data
	./build/bin/herald-server serve --addr $(ADDR) --data-dir var/data

desktop: setup frontend ## Build the desktop app into build/bin/herald (wails build)
	$(WAILS) build -s -o herald

install-desktop: desktop ## Install herald, its .desktop file and icon for this user (~/.local)
	install -Dm755 build/bin/herald $(HOME)/.local/bin/herald
	install -Dm644 build/linux/herald.desktop $(HOME)/.local/share/applications/herald.desktop
	install -Dm644 build/appicon.png $(HOME)/.local/share/icons/hicolor/512x512/apps/herald.png

server: frontend ## Build herald-server (static, CGO_ENABLED=0) into build/bin/herald-server
	CGO_ENABLED=0 $(GO) build -trimpath -o build/bin/herald-server ./backend/cmd/herald-server

frontend: frontend/node_modules/.package-lock.json ## Build the web client into frontend/dist
	cd frontend && $(NPM) run build

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	touch $@

setup: deps ## Install what is missing: apt packages, npm packages, the Wails CLI
	@if [ "$$($(WAILS) version 2>/dev/null | head -n1)" != "$(WAILS_VERSION)" ]; then \
		echo "installing the Wails CLI $(WAILS_VERSION)"; \
		$(GO) install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION); \
	fi

deps: ## Install missing apt and npm packages (what the tests need)
	@scripts/apt-ensure $(APT_BUILD) $(APT_GUI) $(APT_BROWSER) $(APT_OPS)
	@$(MAKE) --no-print-directory frontend/node_modules/.package-lock.json

test: deps frontend test-go test-frontend test-e2e contract ## Run every test: Go (race), desktop app under Xvfb, web client unit and browser tests, contract check
	@echo "make test: all passed"

test-go: ## Go vet, gofmt, and all Go tests with the race detector (includes the desktop smoke test)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(GO_PKGS)
	@# The desktop app must compile for Windows and macOS too (tray and notifications per OS).
	GOOS=windows $(GO) build -tags desktop,production -o /dev/null .
	GOOS=darwin $(GO) vet . ./app/...
	@# The whole output goes to build/go-test.log too; a failure ends with a digest of it (the
	@# failed tests, a panic's first lines: a timeout's names the tests that were running), as
	@# a timeout's goroutine dump would otherwise bury them.
	@mkdir -p build
	@set +e; HERALD_DESKTOP_TEST=1 HERALD_NGINX_TEST=1 $(GO) test -race -count=1 -timeout 20m $(GO_PKGS) 2>&1 | tee build/go-test.log; \
	st=$${PIPESTATUS[0]}; if [ $$st -ne 0 ]; then echo "== go test failed ($$st); the digest of build/go-test.log:"; \
	grep -E -A8 '^(--- FAIL|panic: |FAIL|[[:space:]]+--- FAIL)' build/go-test.log | grep -v -E '^[[:space:]]+/' | head -100; fi; exit $$st

test-cluster: ## The cluster's long run (~2 min): three herald-servers on NATS vs one, its figures printed (docs/CLUSTER.md)
	HERALD_CLUSTER_FIGURES=1 HERALD_CLUSTER_FIGURES_OUT=$(CURDIR)/build/cluster-figures.md $(GO) test -count=1 -timeout 20m -run 'TestClusterFigures' -v ./backend/cmd/herald-server | grep -v 'level=' 
	@cat build/cluster-figures.md

test-frontend: frontend/node_modules/.package-lock.json ## tsc, eslint and vitest for the web client
	cd frontend && $(NPM) run typecheck && $(NPM) run lint && $(NPM) test

test-e2e: deps server ## Browser tests: a real herald-server driven through Debian's Chromium (playwright-core)
	cd frontend && $(NPM) run test:e2e

contract: ## The outside view: ../shared/tools/contract-check against herald-server
	@if [ -x ../shared/tools/contract-check ]; then ../shared/tools/contract-check; \
	else echo "contract: ../shared/tools/contract-check not present, not run"; fi

check: test ## Everything in test, plus staticcheck, each fuzz target for 10 s, and govulncheck
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(GO_PKGS)
	@$(MAKE) --no-print-directory fuzz vulncheck

# Package:target of each go test -fuzz target; their seed corpora (f.Add and testdata/fuzz) also
# run as plain tests in make test.
FUZZ_TARGETS := ./backend/httpapi/:FuzzDecodeJSON ./backend/httpapi/:FuzzParseLastEventID \
	./backend/:FuzzPreferencesValidate ./backend/:FuzzSafeFileName ./backend/:FuzzCheckEmoji ./backend/:FuzzParseSearchQuery \
	./backend/sse/:FuzzReader ./backend/sse/:FuzzEventFrameRoundTrip
FUZZTIME ?= 10s

fuzz: ## Fuzz each target for FUZZTIME (10s); a crash fails and is saved under the package's testdata/fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t##*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

vulncheck: ## govulncheck (golang.org/x/vuln) on every Go package; offline, from golang.org/x/vulndb
	scripts/govulncheck $(GO_PKGS)

bench: bench-tools ## Load test (~2 min): herald-server vs the naive hub under herald-bench, ratios printed (docs/BENCHMARKS.md)
	./build/bin/herald-bench --server build/bin/herald-server --preset make --baseline --rounds 1 --csv build/bin/bench.csv

# herald-server builds without the web client (frontend/dist holds a placeholder), and the load
# tool only needs the API, so bench does not depend on the frontend build.
bench-tools: ## Build build/bin/herald-server (API only, no web client build) and build/bin/herald-bench
	CGO_ENABLED=0 $(GO) build -trimpath -o build/bin/herald-server ./backend/cmd/herald-server
	$(GO) build -trimpath -o build/bin/herald-bench ./backend/cmd/herald-bench

bench-go: ## Go benchmarks: fan-out to 1,000 subscribers, 32 concurrent posters, per-member notifications, search over 100,000 messages
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s ./backend/hub/ ./backend/httpapi/ ./backend/bolt/
	$(GO) test -run '^$$' -bench 'Search' -benchtime 2000x ./backend/search/
	$(GO) test -run '^$$' -bench 'Indexing|Erase' -benchtime 3x ./backend/search/

clean: ## Remove build output (not var/ data)
	rm -rf build/bin frontend/dist/assets frontend/dist/index.html
