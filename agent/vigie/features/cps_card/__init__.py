"""The CPS card: lock when it is pulled out of the reader, remind when it is left in (presence and ATR only)."""
