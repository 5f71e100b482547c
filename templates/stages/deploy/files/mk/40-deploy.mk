# deploy stage: the service, batch scoring, and the deploy step of the pipeline.
PIPELINE += deploy
INPUT ?= data/processed/serving.parquet
# FORCE=1: deploy, serve or batch-score a model the readiness gate did not pass (logged, /health shows it)
FORCE_FLAG := $(if $(FORCE),--force,)

.PHONY: deploy serve batch compact-log docker-build

deploy: ## score the serving window into the prediction log (logs/predictions/); skew and latency checks
	$(PYTHON) -m $(PKG) deploy $(FORCE_FLAG)

serve: ## run the prediction service (port: $$PORT, else config.yaml; docs at /docs)
	$(PYTHON) -m $(PKG) serve $(if $(PORT),--port $(PORT),) $(FORCE_FLAG)

batch: ## score a file in chunks: make batch INPUT=path/to/rows.csv [CHUNK_ROWS=50000] -> predictions/<name>.parquet
	$(PYTHON) -m $(PKG) batch $(INPUT) $(if $(CHUNK_ROWS),--chunk-rows $(CHUNK_ROWS),) $(FORCE_FLAG)

compact-log: ## move the service's buffered predictions (logs/predictions.jsonl) into the columnar log
	$(PYTHON) -m $(PKG) compact-log

docker-build: ## build the service image (after `make evaluate`: the image ships artifacts/ and the gate's verdict)
	docker build -t $(PKG):latest .
