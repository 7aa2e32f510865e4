# Restore Desk — the commands a developer needs. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

.PHONY: help run test bench chaos generate screenshots lint db-stop build

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## Run Restore Desk (demo mode unless DEMO=0); starts a private PostgreSQL under .data/ when DATABASE_URL is unset
	@scripts/run.sh

test: ## Run the whole suite: formatting, vet, templ drift, tests (race detector on)
	@scripts/test.sh

bench: ## Run the benchmarks and print their figures
	@scripts/bench.sh

chaos: ## The chaos run (under 10 minutes, not part of make test): faults, kill -9, a PostgreSQL restart; prints N requests: R ready, F failed, D duplicates, S stuck, audit ok|broken
	@scripts/chaos.sh

generate: ## Regenerate the templ views
	go tool templ generate

screenshots: ## Regenerate docs/screenshots/ from the demo with headless Chromium
	scripts/screenshots.sh

lint: ## gofmt, go vet, go mod tidy -diff, staticcheck, deadcode and the templ drift check
	@scripts/test.sh lint

build: ## Build bin/web
	go build -o bin/web ./cmd/web

db-stop: ## Stop the private development PostgreSQL (its data is kept in .data/)
	@scripts/pgcluster.sh stop .data/pg
