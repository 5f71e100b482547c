# baseline stage: dummy + heuristic baselines and the first model (src/$(PKG)/stages/baseline.py)
PIPELINE += train
.PHONY: train

train: ## fit the baselines, cross-validate the candidate models, fit the chosen one into artifacts/
	$(PYTHON) -m $(PKG) train $(if $(DROP_REVIEWED),--drop-reviewed)
