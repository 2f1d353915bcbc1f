"""The local candle store: downloading exchange candles into CSV or Parquet files."""
