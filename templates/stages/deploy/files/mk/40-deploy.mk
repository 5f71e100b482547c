# deploy stage: the service, batch scoring, and the deploy step of the pipeline.
PIPELINE += deploy
INPUT ?= data/processed/serving.parquet

.PHONY: deploy serve batch docker-build

deploy: ## score the serving window into logs/predictions.jsonl; skew and latency checks
	$(PYTHON) -m $(PKG) deploy

serve: ## run the prediction service (host/port from config.yaml; docs at /docs)
	$(PYTHON) -m $(PKG) serve

batch: ## score a file: make batch INPUT=path/to/rows.csv -> predictions/<name>.parquet
	$(PYTHON) -m $(PKG) batch $(INPUT)

docker-build: ## build the service image (run `make train` first: the image ships artifacts/)
	docker build -t $(PKG):latest .
