# monitor stage. `make monitor` judges the logged window (calm: ok or warn) and then, for the demo, a
# shifted copy of it that must alert: its exit code 1 is expected, so only that one is tolerated.
# With real traffic, drop the second line (or keep it as a smoke test that the monitor still sees shifts).
PIPELINE += monitor

.PHONY: monitor

monitor: ## monitor the prediction log (reports/monitoring/latest.md), then a shifted demo window
	$(PYTHON) -m $(PKG) monitor
	$(PYTHON) -m $(PKG) monitor --shift-demo --name shifted || test $$? -eq 1
