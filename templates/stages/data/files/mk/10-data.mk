# data stage: ingest -> validate -> split (see src/$(PKG)/stages/data.py)
PIPELINE += data
.PHONY: data

# `make data UPDATE_SCHEMA=1` accepts a deliberate change of columns or kinds (rewrites data/schema.yaml)
UPDATE_SCHEMA ?=

data: ## ingest, check against data/schema.yaml, validate and split into data/processed/
	$(PYTHON) -m $(PKG) data $(if $(filter-out 0 no false,$(UPDATE_SCHEMA)),--update-schema)
