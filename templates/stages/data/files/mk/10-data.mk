# data stage: ingest -> validate -> split (see src/$(PKG)/stages/data.py)
PIPELINE += data
.PHONY: data

data: ## ingest, validate and split the data into data/processed/
	$(PYTHON) -m $(PKG) data
