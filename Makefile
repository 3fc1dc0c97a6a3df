# meae-datalake. The two commands: `make demo` and `make test`. Everything else is a step of them.
# Caches (Python deps venv, Maven jars, MinIO binary, Go build cache) live in the user cache dir
# ($LAKE_CACHE_DIR, else $XDG_CACHE_HOME/meae-datalake, else ~/.cache/meae-datalake): a second
# run, or a fresh clone on the same machine, reuses them and starts in seconds.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LAKE   := $(VENV)/bin/lake
PYTEST_ARGS ?=
# The packages (the design card's top level), the tests and the tools: what lint and format read.
CODE   := lake ingestion quality governance lifecycle app tests tools

.PHONY: bench browser postgres compose-cli compose-env compose-images docker-engine help setup jars minio up down status doctor demo test test-fast lint format lock clean

help:
	@echo "make demo    set everything up, start MinIO, install the roles, ingest the bundled extracts"
	@echo "             (bronze/silver/gold, under the MinIO role 'pipeline', not the root user)"
	@echo "make test    set everything up, run the tests against a real MinIO and Spark"
	@echo "make lint    ruff + mypy        make doctor   check the setup"
	@echo "make up/down/status             the local MinIO server"
	@echo "make bench   benchmarks as ratios against baselines (BENCH_ARGS=\"--rows N\"; docs/benchmarks.md)"

$(LAKE): pyproject.toml constraints.txt tools/bootstrap_venv.py
	@$(PYTHON) tools/bootstrap_venv.py >/dev/null
	@touch $(LAKE)

setup: $(LAKE)

jars: setup
	@$(LAKE) setup jars

minio: setup
	@$(LAKE) setup minio

# docker compose v2 from source: only to run `docker compose config` on our compose file.
compose-cli: setup
	@$(LAKE) setup compose-cli

up: jars minio postgres
	@$(LAKE) up

down: setup
	@$(LAKE) down

status: setup
	@$(LAKE) status

doctor: setup
	@$(LAKE) doctor

# The root keys serve only `lake up` and `lake access apply` (idempotent; `lake up` also runs it when
# it starts a fresh MinIO): `lake run` then takes the `pipeline` role (decision 0008).
demo: up
	@$(LAKE) access apply
	@$(LAKE) run
	@echo "--- a gold table, read without Spark (delta-rs + MinIO listing):"
	@$(LAKE) inspect gold/adoptions_par_pays_annee_age
	@echo "--- quality reviews (A13), in French for business units:"
	@$(LAKE) quality review
	@echo "--- where a gold column comes from (OpenLineage events, completed through the MERGE):"
	@$(LAKE) lineage show gold/inscrits_par_pays_poste --column pays_iso3 --svg var/reports/lineage/inscrits_pays.svg
	@echo "--- every lineage event against the official OpenLineage schemas:"
	@$(LAKE) lineage validate
	@echo "--- the catalogue (A08/A11):"
	@$(LAKE) catalog
	@echo "--- the cloud-usage framework (A09):"
	@$(LAKE) cloud
	@echo "--- every report (quality, A09, A15 study, schemas, dashboard), linked from one page:"
	@$(LAKE) reports
	@$(LAKE) status
	@echo "--- the reports as a web app (sign-in per level and direction, review sign-off, A13):"
	@echo "    $(LAKE) users add dfae.revue --level 1 --direction DFAE   (asks the password)"
	@echo "    $(LAKE) serve   then open http://127.0.0.1:8088/ and sign in as dfae.revue"

# The tests start their own MinIO (free port, temporary data) and stop it, even on failure.
# Everything runs, the fault-injection scenarios included (kill -9 per layer, MinIO killed, full
# disk, wiped drive: about 15 minutes; docs/reliability.md).
test: jars minio compose-cli browser docker-engine postgres
	@$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (not part of `make test`): its own MinIO and workers; results in var/bench/ and
# docs/benchmarks.md. Default about 2 million lines; e.g. BENCH_ARGS="--rows 20000 --only rerun".
BENCH_ARGS ?=
bench: jars minio
	@$(LAKE) bench $(BENCH_ARGS)

test-fast: setup
	@$(PY) -m pytest -m "not spark and not minio and not slow" $(PYTEST_ARGS)

# Issue 7 scenarios on real processes (concurrent writers, kill -9, MinIO faults...): docs/reliability.md
.PHONY: reliability
reliability: jars minio postgres
	@$(PY) -m pytest -m reliability $(PYTEST_ARGS)

# The screenshot tests render the reports in headless Chromium (Debian package): `make test`
# installs it first; the tests fail, never skip, without it.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || (apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver)

# The catalog (Hive metastore) keeps its tables in a private PostgreSQL cluster that `lake up` and
# the tests start (docs/catalog.md): Debian's server package, installed once; no test skips without it.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)

# A Docker engine for the compose test and demo: Debian's docker.io (the daemon, started privately
# by the test or `lake setup docker`, state in the user cache) and debootstrap (the base image,
# built without a registry). ../shared/DOCKER.md; docs/decisions/0009-compose-images.md.
docker-engine:
	@(command -v dockerd >/dev/null && command -v debootstrap >/dev/null) || (apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io debootstrap)

# The compose images: private engine if none answers, debian:bookworm-slim by debootstrap, the
# artifacts image (cached jars + MinIO binary), then `docker compose build`. Cached: seconds when
# nothing changed. Then: eval "$$(.venv/bin/lake setup docker 2>/dev/null)" && docker compose up -d
compose-images: jars minio compose-cli docker-engine compose-env
	@eval "$$($(LAKE) setup docker)" && docker compose build

lint: setup
	@$(PY) -m ruff check $(CODE)
	@$(PY) -m ruff format --check $(CODE)
	@$(PY) -m mypy

format: setup
	@$(PY) -m ruff format $(CODE)
	@$(PY) -m ruff check --fix $(CODE)

# Re-resolve every dependency from pyproject.toml and record the exact versions.
lock:
	@rm -rf /tmp/meae-datalake-lock && $(PYTHON) -m venv /tmp/meae-datalake-lock
	@/tmp/meae-datalake-lock/bin/pip install -q ".[dev]"
	@( echo "# Exact versions of every dependency, as resolved and tested (pip freeze)."; \
	   echo "# Regenerate with \`make lock\` after changing pyproject.toml; the venv cache key includes this file."; \
	   /tmp/meae-datalake-lock/bin/pip freeze --exclude-editable | grep -v '^meae-datalake' ) > constraints.txt
	@rm -rf /tmp/meae-datalake-lock

# docker-compose reads its secrets from .env (git-ignored, mode 600), never from the file: MinIO's
# root keys, the pseudonymisation key, the catalog database's password, the web session key and
# the first web account's password (generated once, kept across rewrites; decision 0014).
compose-env: setup
	@$(PY) -c "from lake.settings import load_settings; from lake.minio_server import write_compose_env; \
	s = load_settings(); print('wrote', write_compose_env(s.root / '.env', s.storage.credentials_file), \
	'(web app: sign in as admin with its LAKE_SERVE_ADMIN_PASSWORD)')"

clean:
	-@$(LAKE) down 2>/dev/null
	rm -rf $(VENV) var
