"""Lock when away: the idle watch (remind, then lock), its checks (idle_lock, lock_policy) and its guard."""
