# baseline stage: dummy + heuristic baselines and the first model (src/$(PKG)/stages/baseline.py)
PIPELINE += train
.PHONY: train

train: ## fit the baselines and the first model into artifacts/
	$(PYTHON) -m $(PKG) train
