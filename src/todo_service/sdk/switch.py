"""The one switch for the SDK speed-ups: `TODO_SDK_SPEEDUPS=auto|on|off`.

The speed-ups (`signer.py`, `endpoints.py`, `response_parser.py`, applied by `speedups.py`)
replace or wrap private parts of botocore and aiobotocore. Their guard tests
(tests/test_signer.py, tests/test_endpoints.py, tests/test_response_parser.py, marked
`speedups`) hold them to the SDK's own behaviour, byte for byte, but only on the versions they
ran on. So the speed-ups turn themselves on only for the (aiobotocore, botocore) pairs in
`VERIFIED_VERSIONS`:

- `auto` (the default): on for a verified pair; otherwise the plain aioboto3 client, with one
  warning line naming the versions. A user can take a newer aioboto3 release than ours; the
  service then runs exactly as aioboto3 does, only slower.
- `on`: on, and an unverified pair refuses to start (`UnverifiedSdk`, one line).
- `off`: never; nothing of the speed-ups is even imported.

Public configuration (the `AioConfig` settings, the fixed User-Agent: `client.py`) is the same
in every mode.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from typing import Final, Literal, get_args

log = logging.getLogger(__name__)

SpeedupMode = Literal["auto", "on", "off"]
SPEEDUP_MODES: Final[tuple[SpeedupMode, ...]] = get_args(SpeedupMode)
DEFAULT_SPEEDUP_MODE: Final[SpeedupMode] = "auto"

# (aiobotocore, botocore) pairs on which every guard test passed. Add a pair only after
# running `pytest -m speedups` on it (docs/performance.md, "Upgrading the SDK").
VERIFIED_VERSIONS: Final = frozenset(
    {
        ("2.25.1", "1.40.61"),
    }
)


class UnverifiedSdk(RuntimeError):
    """TODO_SDK_SPEEDUPS=on with an SDK the speed-ups were not verified on."""


def installed_versions() -> tuple[str, str]:
    """The installed (aiobotocore, botocore) versions."""
    return importlib.metadata.version("aiobotocore"), importlib.metadata.version("botocore")


def verified(versions: tuple[str, str]) -> bool:
    return versions in VERIFIED_VERSIONS


def describe(versions: tuple[str, str]) -> str:
    aiobotocore, botocore = versions
    return f"aiobotocore {aiobotocore} with botocore {botocore}"


def speedups_enabled(mode: SpeedupMode) -> bool:
    """Whether the client gets the speed-ups in this mode, on the installed SDK.

    Raises UnverifiedSdk for `on` on an unverified SDK; warns once per process for `auto`.
    """
    if mode == "off":
        return False
    versions = installed_versions()
    if verified(versions):
        return True
    if mode == "on":
        raise UnverifiedSdk(
            f"TODO_SDK_SPEEDUPS=on, but the SDK speed-ups were not verified on "
            f"{describe(versions)}: set TODO_SDK_SPEEDUPS=auto or off"
        )
    _warn_unverified(versions)
    return False


@functools.cache
def _warn_unverified(versions: tuple[str, str]) -> None:
    # Once per process: every client of the process (app, CLI) would say the same.
    log.warning(
        "SDK speed-ups off: not verified on %s (TODO_SDK_SPEEDUPS=auto); "
        "the plain aioboto3 client serves",
        describe(versions),
        extra={"fields": {"aiobotocore": versions[0], "botocore": versions[1]}},
    )
