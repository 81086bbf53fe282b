# Every target runs inside .venv, built from the pinned requirements: `make run` installs the
# runtime (requirements.txt) only; every other target adds the development tool chain.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
STAMP := $(VENV)/.installed

.PHONY: install run train test lint bench capacity loadtest recommend constraints clean image

install: $(STAMP)

$(RUNTIME): requirements.txt constraints.txt
	@echo "Installing the runtime requirements (requirements.txt) into $(VENV); on a fresh machine this takes about half a minute"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(STAMP): $(RUNTIME) requirements-dev.txt
	@echo "Installing the development tool chain (requirements-dev.txt) into $(VENV)..."
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(RUNTIME)  ## serve the default model on 127.0.0.1:$PORT (8080)
	$(BIN)/python -m function

train: install  ## retrain every model version into model_data/
	$(BIN)/python -m training

image:  ## build the image with podman (image/README.md); the stand-in base is made if missing
	image/build.sh

test: install  ## the whole test suite (what CI runs)
	$(BIN)/pytest

# Every shell script git tracks: .ci/run (it has no suffix) and each *.sh. Without git, or outside
# a checkout, the list is empty and lint stops, rather than shellcheck less and pass.
SHELL_SCRIPTS = $(shell git ls-files -- .ci/run '*.sh')

lint: install  ## ruff, hadolint, yamllint and shellcheck
	$(if $(filter .ci/run,$(SHELL_SCRIPTS)),,$(error make lint: git lists no shell scripts (is git installed, is this a git checkout, is it marked safe?); lint checks the scripts git tracks))
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint --strict .
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

constraints:  ## re-pin every transitive dependency (after changing a requirements file)
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/pip install --quiet -r requirements-dev.txt
	{ sed -n '1,3p' constraints.txt; build/lock/bin/pip freeze; } > build/constraints.txt
	mv build/constraints.txt constraints.txt && rm -rf build/lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache reports

bench: install  ## start, memory, req/s and p99 of the real server, each as a ratio to the floor of its stack (needs wrk)
	$(BIN)/python -m loadtest.bench

# Per-pod capacity: the image under knative/base/service.yaml's resources, concurrency swept by
# wrk until p99 passes loadtest/locust.conf's SLO (loadtest/README.md); CAPACITY_ARGS adds options,
# e.g. CAPACITY_ARGS="--url https://..." sweeps a running server instead.
capacity: install image  ## per-pod capacity curve under the pod's resources (needs podman, wrk)
	$(BIN)/python -m loadtest.capacity $(CAPACITY_ARGS)

# Load test: headless Locust against a running server (`make run` in another terminal, or a
# Knative URL in TARGET_URL), bounded by DURATION; CSV, HTML and PNG reports land in reports/.
# HOST is the server's bind address; a URL in HOST still works here for now, with a warning.
TARGET_URL ?= $(if $(filter http://% https://%,$(HOST)),$(HOST),http://127.0.0.1:8080)
SHAPE ?= steady
USERS ?= 10
DURATION ?= 30s
loadtest: install  ## load $(TARGET_URL) with the $(SHAPE) shape; exits 1 if the SLO in loadtest/locust.conf breaks
	$(if $(filter http://% https://%,$(HOST)),@echo "warning: HOST=$(HOST) as the load-test target is deprecated; use TARGET_URL" >&2)
	mkdir -p reports
	$(BIN)/locust --config loadtest/locust.conf --host $(TARGET_URL) --shape $(SHAPE) \
		--users $(USERS) --run-time $(DURATION) --csv reports/loadtest --html reports/loadtest.html

recommend: install  ## Knative settings and their cost from loadtest/capacity-measured.json (PEAK_RPS, SLO_P99_MS); writes reports/recommend/
	$(BIN)/python -m loadtest.recommend $(if $(PEAK_RPS),--peak-rps $(PEAK_RPS)) \
		$(if $(SLO_P99_MS),--slo-p99-ms $(SLO_P99_MS))
