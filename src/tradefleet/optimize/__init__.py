"""Parameter optimisation: Optuna searches a strategy's parameter space on train candles,
in parallel worker processes, and the best configs are judged out of sample.

``tradefleet optimize`` (``command``) is the user's entry; ``runner.optimize`` is the call
behind it (and behind ``bench/optimize_speed.py``).
"""
