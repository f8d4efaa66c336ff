"""Settings.from_env parses every STAROSTA_* variable to its setting's type, and refuses a
value that does not fit in one line naming the variable (pure: no database, no HTTP)."""

from __future__ import annotations

import pytest

from starosta.service.settings import BOUNDS, Settings, env_value


def test_every_setting_read_from_the_environment_has_its_type() -> None:
    # given a value for every variable, written as an operator writes them
    env = {"STAROSTA_DB": "/srv/x.db", "STAROSTA_HOST": "0.0.0.0", "STAROSTA_PORT": "9000",
           "STAROSTA_SYNCHRONOUS": "NORMAL", "STAROSTA_MAX_BODY_BYTES": "2048",
           "STAROSTA_GROUP_COMMIT_MAX": "64", "STAROSTA_READER_THREADS": " 8 ",
           "STAROSTA_MAX_STREAMS": "0", "STAROSTA_READ_DB": "",
           "STAROSTA_MIN_POSITION_WAIT": "0.5", "STAROSTA_TRUSTED_PROXIES": "127.0.0.1",
           # i23-lane
           "STAROSTA_EXPENSIVE_THREADS": "3", "STAROSTA_EXPENSIVE_PER_CLIENT": "1",
           "STAROSTA_EXPENSIVE_QUEUE": "0"}
    env.update({  # i23-limits
        "STAROSTA_MAX_STREAMS_PER_CLIENT": "2", "STAROSTA_MAX_STREAMS_PER_TOKEN": "3",
        "STAROSTA_ANONYMOUS_STREAM_TIMEOUT": "30", "STAROSTA_AUTH_FAILURES_MAX": "5",
        "STAROSTA_AUTH_FAILURE_WINDOW": "10", "STAROSTA_REFUSAL_DELAY": "0.25"})
    # when settings are built from them
    settings = Settings.from_env(env)
    # then each has the type of its default: the wait is seconds, not text
    for name in Settings.__struct_fields__:
        assert type(getattr(settings, name)) is type(getattr(Settings(), name)), name
    assert settings.min_position_wait == 0.5 and settings.reader_threads == 8
    assert settings.max_streams == 0 and settings.port == 9000
    assert (settings.expensive_threads, settings.expensive_per_client,
            settings.expensive_queue) == (3, 1, 0)  # i23-lane
    # and every variable is named in from_env's loop (none is left unread)
    assert set(env) == {f"STAROSTA_{name.upper()}" for name in Settings.__struct_fields__}


def test_a_whole_number_of_seconds_is_a_float() -> None:
    assert Settings.from_env({"STAROSTA_MIN_POSITION_WAIT": "3"}).min_position_wait == 3.0


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("STAROSTA_MIN_POSITION_WAIT", "soon", "not a number of seconds"),
    ("STAROSTA_MIN_POSITION_WAIT", "nan", "not a number of seconds"),
    ("STAROSTA_MIN_POSITION_WAIT", "inf", "not a number of seconds"),
    ("STAROSTA_MIN_POSITION_WAIT", "-1", "out of range"),
    ("STAROSTA_PORT", "eighty", "not an integer"),
    ("STAROSTA_ANONYMOUS_STREAM_TIMEOUT", "301", "out of range"),  # i23-limits
    ("STAROSTA_AUTH_FAILURES_MAX", "0", "out of range"),
    ("STAROSTA_AUTH_FAILURE_WINDOW", "soon", "not a number of seconds"),
    ("STAROSTA_PORT", "70000", "out of range"),
    ("STAROSTA_PORT", "8000.5", "not an integer"),
    ("STAROSTA_READER_THREADS", "0", "out of range"),
    ("STAROSTA_GROUP_COMMIT_MAX", "-5", "out of range"),
    ("STAROSTA_MAX_BODY_BYTES", "1MB", "not an integer"),
    ("STAROSTA_MAX_STREAMS", "-1", "out of range"),
    ("STAROSTA_EXPENSIVE_THREADS", "0", "out of range"),  # i23-lane
    ("STAROSTA_EXPENSIVE_PER_CLIENT", "0", "out of range"),
    ("STAROSTA_EXPENSIVE_QUEUE", "-1", "out of range"),
])
def test_a_bad_value_is_one_line_naming_the_variable_and_value(variable: str, value: str,
                                                               says: str) -> None:
    with pytest.raises(ValueError) as refused:
        Settings.from_env({variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable}={value!r}") and says in message
    assert "\n" not in message


def test_every_number_setting_has_bounds() -> None:
    numbers = {f"STAROSTA_{name.upper()}" for name in Settings.__struct_fields__
               if Settings.__annotations__[name] in ("int", "float")}
    assert numbers == set(BOUNDS)


def test_a_setting_of_a_type_without_a_parser_is_a_bug_not_text() -> None:
    with pytest.raises(TypeError, match="STAROSTA_X"):
        env_value("STAROSTA_X", "1", "bool")
