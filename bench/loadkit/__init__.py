"""A load driver for a real ``tradefleet serve``: the process, the clients, the checks.

``bench/api_load.py`` runs it at full size and prints figures; the test suite runs a small
version (``tests/e2e/test_e2e_load.py``) and asserts its checks."""
