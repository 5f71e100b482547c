# evaluate stage: held-out metrics, baselines, readiness gate (src/$(PKG)/stages/evaluate.py)
PIPELINE += evaluate
.PHONY: evaluate

evaluate: ## evaluate on the test split; fails when the model is not ready
	$(PYTHON) -m $(PKG) evaluate

.PHONY: analyze
analyze: ## what to do next: label errors, learning curve, error slices, leakage (reports/analysis.md)
	$(PYTHON) -m $(PKG) analyze
