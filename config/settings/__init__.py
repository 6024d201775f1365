"""Settings modules: `base` (every served profile, from the environment) and `test`."""
