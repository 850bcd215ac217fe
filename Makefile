# Every target works on a fresh clone with only Node (>= 20.19) and npm: the ones that need dependencies
# install them first. `make` alone lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# npm rewrites its hidden lockfile on every install, so it is newer than package-lock.json exactly when
# node_modules matches the lock.
INSTALLED := node_modules/.package-lock.json
# Where `make test` writes vitest's JSON report; CI sets it to keep one report per database.
TEST_REPORT ?= .tmp/vitest.json
# Extra vitest arguments, e.g. `make test VITEST_ARGS=client`, `VITEST_ARGS=unit` for one tier, or
# `VITEST_ARGS="--project fault"` for the fault tier alone (see vitest.config.ts and README, Testing).
VITEST_ARGS ?=

.PHONY: help install generate lint format test run bench check-gen deploy down clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(INSTALLED) ## Install dependencies (npm ci) when node_modules is missing or older than package-lock.json

$(INSTALLED): package-lock.json
	npm ci
	@touch $@

generate: install ## Regenerate gen/ from proto/ (buf generate), then lint the protos
	npx buf generate
	npx buf lint

lint: install ## Lint the protos (buf lint), typecheck everything (tsc --noEmit), check the formatting (prettier --check)
	npx buf lint
	npx tsc -p tsconfig.json --noEmit
	npx prettier --check .

format: install ## Format the code in place (prettier --write; .prettierignore lists what it leaves alone)
	npx prettier --write .

test: install ## Run all tests (vitest) and print "N passed, N failed"
	@mkdir -p $(dir $(TEST_REPORT))
	@rm -f $(TEST_REPORT)
	@status=0; \
	npx vitest run --reporter=default --reporter=json --outputFile.json=$(TEST_REPORT) $(VITEST_ARGS) || status=$$?; \
	node scripts/test-summary.mjs $(TEST_REPORT) || status=1; \
	exit $$status

run: install ## Run the whole system: Event Store (:8081), Crud Store (:8082), Metrics Consumer (:8083), web console (:8080), and with NATS_URL set the JetStream bridge (:8084); see README
	node --import tsx scripts/run-system.ts

bench: install ## Run the benchmarks
	node --import tsx bench/run.ts

check-gen: generate ## Fail if gen/ differs from what proto/ generates (uncommitted or stale generated code)
	@git diff --exit-code --stat -- gen || { echo "gen/ is out of date: run make generate and commit gen/"; exit 1; }
	@untracked="$$(git ls-files --others --exclude-standard -- gen)"; \
	if [ -n "$$untracked" ]; then echo "untracked generated files (commit them):"; echo "$$untracked"; exit 1; fi

# `make deploy` and `make down` need Docker with the Compose plugin and a running engine: say which one is missing
# instead of failing on a cryptic message.
DOCKER_CHECK = command -v docker >/dev/null 2>&1 || { echo "make $@: docker is not installed; this target needs Docker with the Compose plugin (see README, Deploying with Docker Compose)" >&2; exit 1; }; \
	docker compose version >/dev/null 2>&1 || { echo "make $@: the Docker Compose plugin is missing (\`docker compose version\` failed); install Compose v2" >&2; exit 1; }; \
	docker info >/dev/null 2>&1 || { echo "make $@: no Docker engine answers (\`docker info\` failed); start the Docker engine first" >&2; exit 1; }

deploy: ## Build the images and start everything with Docker Compose, waiting until healthy; see README
	@$(DOCKER_CHECK)
	docker compose up --detach --build --wait

down: ## Stop the Docker Compose deployment and remove its containers (its volumes, so its data, stay)
	@$(DOCKER_CHECK)
	docker compose down

clean: ## Remove test reports and coverage (not node_modules, not the data/ database)
	rm -rf .tmp coverage
