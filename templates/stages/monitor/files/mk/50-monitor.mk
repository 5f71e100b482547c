# monitor stage. `make monitor` runs the demo step: it judges the logged serving window
# (reports/monitoring/latest.md; calm on the sample data) and then a shifted copy of it that must
# alert (reports/monitoring/shifted.md), so a new user sees both. It fails when the shifted copy
# does not alert or a window cannot be judged; an alert on your own serving window is reported
# loudly without stopping `make all`. Judge one window with its real exit code (0 ok/warn,
# 1 alert, 2 could not compute): `make monitor-window` or
# `python -m $(PKG) monitor [--input FILE] [--since 24h] [--fail-on warn]`.
PIPELINE += monitor

.PHONY: monitor monitor-window

monitor: ## monitor the prediction log (latest.md), then a shifted demo window that must alert (shifted.md)
	$(PYTHON) -m $(PKG) monitor-demo

monitor-window: ## monitor the prediction log only; exit 1 on alert, 2 when it cannot be judged
	$(PYTHON) -m $(PKG) monitor

.PHONY: retrain

retrain: ## train a challenger on the original + labelled recent data; promote it only if the whole gate passes
	$(PYTHON) -m $(PKG) retrain
