"""Where the settings are read from: the environment (and a `.env` file beside the project,
if any), and the two switches the other settings modules depend on."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("MEDFRONT_TESTING", default=False)
