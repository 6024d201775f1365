"""Start-up configuration: secrets are validated up front, development keys are generated once,
and the production profile passes Django's deployment checks. Each case starts a fresh Python
process, because settings are read once per process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
# A deployment names a sender for every channel (the development one delivers nothing).
STAND_IN = "tests.config.senders.ProviderStandIn"
REAL_SENDERS = f"email={STAND_IN},sms={STAND_IN},messenger={STAND_IN}"


def production_env(**overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(32),
        "AUDIT_SEAL_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "medfront.example",
        "DATABASE_URL": "sqlite:////tmp/medfront-settings-test.sqlite3",
        "NOTIFICATION_SENDERS": REAL_SENDERS,
        # The lockout's shared store; `check` does not connect to it.
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_KEYS is not set"),
        ("BLIND_INDEX_KEY", "BLIND_INDEX_KEY is not set"),
        ("AUDIT_SEAL_KEY", "AUDIT_SEAL_KEY is not set"),
    ],
)
def test_a_missing_secret_stops_start_up_naming_the_setting(missing, named):
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SECRET_KEY", "short", "SECRET_KEY is too weak"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key", "FIELD_ENCRYPTION_KEYS: key #1"),
        ("BLIND_INDEX_KEY", "abcd", "BLIND_INDEX_KEY must hold at least 32 bytes"),
        ("AUDIT_SEAL_KEY", "abcd", "AUDIT_SEAL_KEY must hold at least 32 bytes"),
        ("AUDIT_SEAL_KEY", "not hex, not base64!", "AUDIT_SEAL_KEY must be hex or base64"),
        (
            "AUDIT_SEAL_RETIRED_KEYS",
            f"{'ab' * 32},abcd",
            "AUDIT_SEAL_RETIRED_KEYS: key #2 must hold at least 32 bytes",
        ),
        ("AUDIT_SEAL_INTERVAL_SECONDS", "0", "AUDIT_SEAL_INTERVAL_SECONDS must be at least 1"),
        ("OUTBOX_RETENTION_DAYS", "0", "OUTBOX_RETENTION_DAYS must be at least 1"),
        ("NOTIFICATION_RATE_LIMITS", "smsru=fast", "NOTIFICATION_RATE_LIMITS must list"),
        ("NOTIFICATION_RATE_LIMITS", "smsru=0/1", "NOTIFICATION_RATE_LIMITS must list"),
    ],
)
def test_a_malformed_secret_stops_start_up_naming_the_setting(setting, value, named):
    result = manage("check", env=production_env(**{setting: value}))
    assert result.returncode != 0
    assert named in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(secrets.token_urlsafe(60) + "\n")
    seal_key_file = tmp_path / "audit_seal_key"
    seal_key_file.write_text(secrets.token_hex(32) + "\n")
    env = production_env(
        SECRET_KEY=None,
        SECRET_KEY_FILE=str(key_file),
        AUDIT_SEAL_KEY=None,
        AUDIT_SEAL_KEY_FILE=str(seal_key_file),
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_the_audit_seal_key_must_differ_from_the_other_keys():
    blind_index_key = secrets.token_hex(32)
    env = production_env(BLIND_INDEX_KEY=blind_index_key, AUDIT_SEAL_KEY=blind_index_key)
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "AUDIT_SEAL_KEY must differ from every other key and secret" in result.stderr


def test_development_keys_are_generated_once_and_reused(tmp_path):
    dev_file = tmp_path / "dev-secrets.json"
    env = production_env(
        DEBUG="1",
        SECRET_KEY=None,
        FIELD_ENCRYPTION_KEYS=None,
        BLIND_INDEX_KEY=None,
        AUDIT_SEAL_KEY=None,
        DEV_SECRETS_FILE=str(dev_file),
    )
    first = manage("check", env=env)
    assert first.returncode == 0, first.stderr
    generated = json.loads(dev_file.read_text())
    assert set(generated) == {
        "SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "BLIND_INDEX_KEY",
        "AUDIT_SEAL_KEY",
    }
    assert len({*generated.values()}) == 4
    assert oct(dev_file.stat().st_mode & 0o777) == "0o600"
    second = manage("check", env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(dev_file.read_text()) == generated


def test_a_development_key_file_from_an_earlier_version_gains_the_missing_keys(tmp_path):
    dev_file = tmp_path / "dev-secrets.json"
    earlier = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_hex(32),
    }
    dev_file.write_text(json.dumps(earlier))
    env = production_env(
        DEBUG="1",
        SECRET_KEY=None,
        FIELD_ENCRYPTION_KEYS=None,
        BLIND_INDEX_KEY=None,
        AUDIT_SEAL_KEY=None,
        DEV_SECRETS_FILE=str(dev_file),
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    now = json.loads(dev_file.read_text())
    assert {k: now[k] for k in earlier} == earlier
    assert len(bytes.fromhex(now["AUDIT_SEAL_KEY"])) == 32


def test_without_debug_no_development_keys_are_generated(tmp_path):
    dev_file = tmp_path / "dev-secrets.json"
    env = production_env(SECRET_KEY=None, DEV_SECRETS_FILE=str(dev_file))
    assert manage("check", env=env).returncode != 0
    assert not dev_file.exists()


def test_the_production_profile_passes_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_debug_the_development_sender_stops_start_up_naming_the_setting():
    result = manage("check", env=production_env(NOTIFICATION_SENDERS=f"email={STAND_IN}"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER" in result.stderr


def test_an_explicitly_allowed_development_sender_starts_and_the_deployment_check_reports_it():
    env = production_env(NOTIFICATION_SENDERS=None, NOTIFICATIONS_ALLOW_DEVELOPMENT_SENDER="1")
    assert manage("check", env=env).returncode == 0
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "notifications.W001" in result.stdout + result.stderr


def test_without_debug_a_per_process_cache_stops_start_up_naming_the_setting():
    result = manage("check", env=production_env(REDIS_URL=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REDIS_URL is not set" in result.stderr


def test_with_debug_the_per_process_cache_is_allowed():
    result = manage("check", env=production_env(REDIS_URL=None, DEBUG="1"))
    assert result.returncode == 0, result.stderr


def test_a_staff_token_lifetime_longer_than_the_patients_stops_start_up_naming_the_setting():
    env = production_env(API_TOKEN_TTL_HOURS="8", API_TOKEN_TTL_STAFF_HOURS="24")
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "API_TOKEN_TTL_STAFF_HOURS must be positive" in result.stderr


def test_served_profiles_on_postgresql_lend_connections_from_a_bounded_pool():
    probe = (
        "import django; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(db['CONN_MAX_AGE'], sorted(db['OPTIONS']['pool'].items()))"
    )
    env = production_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_POOL_MAX_SIZE="6",
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 [('max_size', 6), ('min_size', 2), ('timeout', 10.0)]"


def test_a_pool_smaller_than_its_minimum_stops_start_up_naming_the_setting():
    env = production_env(
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
        DATABASE_POOL_MIN_SIZE="5",
        DATABASE_POOL_MAX_SIZE="2",
    )
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_POOL_MAX_SIZE must be positive" in result.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"ASSISTANT_ENGINE": "openai"},
        {"ASSISTANT_ENGINE": "openai", "ASSISTANT_LLM_BASE_URL": "ftp://model.example/v1"},
        {"ASSISTANT_ENGINE": "gpt"},
        {"ASSISTANT_LLM_TIMEOUT": "0"},
    ],
)
def test_a_misconfigured_assistant_model_stops_start_up_naming_the_setting(overrides):
    result = manage("check", env=production_env(**overrides))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "ASSISTANT_" in result.stderr


def test_the_assistant_model_is_configured_by_url_model_and_a_key_file(tmp_path):
    key = tmp_path / "llm-key"
    key.write_text("sk-from-a-file\n")
    env = production_env(
        ASSISTANT_ENGINE="openai",
        ASSISTANT_LLM_BASE_URL="http://127.0.0.1:11434/v1",
        ASSISTANT_LLM_MODEL="qwen2.5:7b",
        ASSISTANT_LLM_API_KEY_FILE=str(key),
    )
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ASSISTANT_LLM_API_KEY)",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "sk-from-a-file"
