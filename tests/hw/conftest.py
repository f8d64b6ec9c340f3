"""Shared fixtures of the hw tests: one cached build folder for all cocotb runs."""

import os
from pathlib import Path

import pytest

BUILD_ROOT = Path(os.environ.get("NMSAT_HW_BUILD_ROOT", Path(__file__).parent / "sim_build"))


@pytest.fixture(scope="session")
def hw_build_root():
    """Cocotb builds, cached across sessions by content hash (ignored by git; NMSAT_HW_BUILD_ROOT moves it)."""
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    return BUILD_ROOT
