// TouchlogStore
